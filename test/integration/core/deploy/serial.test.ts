import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, type DeployOptions } from '../../../../core/deploy/deploy.js';
import { profileCheck } from '../../../../core/deploy/check.js';
import { tempHome } from '../../../../test/support/cli.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { sha256 } from '../../../../core/deploy/payload.js';
import { openSerial } from '../../../../native-bridge/serial/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../../emulator/emulator.js';
import { activePayload, readSlots, stateDir } from '../../../support/emulator.js';
import { ptyPair, type PtyPair } from '../../../support/pty.js';
import { codeModule, withCustomSection } from '../../../support/wasm.js';

const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function kit(opts: Partial<EmulatorOptions> = {}): Promise<{ pty: PtyPair; emu: Emulator; dir: string }> {
  const pty = await ptyPair();
  cleanup.push(() => pty.close());
  const dir = stateDir();
  const emu = await startEmulator({ platform: 'vita', serial: pty.device, stateDir: dir, checkpointBytes: 8192, ...opts });
  cleanup.push(() => emu.close());
  return { pty, emu, dir };
}

const FAST = { replyMs: 1000, ackMs: 300, maxRetries: 30 };

async function deployOver(pty: PtyPair, bytes: Buffer, baud: number, opts: Partial<DeployOptions> = {}) {
  const transport = await openSerial(pty.host, baud);
  return deploy({ bytes, sha256: sha256(bytes), name: 'p.wasm', platform: undefined }, transport, hostCheck, {
    force: false,
    resume: true,
    run: false,
    compression: 'auto',
    timings: FAST,
    ...opts,
  });
}

const A = codeModule(1500, 11);

describe('deploy over a serial line (socat pty pair)', () => {
  it('uploads with brotli at a paced 921600 baud, no faster than the line allows', async () => {
    const { pty, dir } = await kit({ lineRate: 921600 });
    const noise = withCustomSection(A, 'noise', randomBytes(24_000)); // partly incompressible
    const t = Date.now();
    const r = await deployOver(pty, noise, 921600);
    const seconds = (Date.now() - t) / 1000;
    expect(r).toMatchObject({ outcome: 'committed', compression: 'br', lineRate: 921600 });
    expect(r.wireBytes).toBeLessThan(noise.length);
    // The line carries at most 92,160 bytes/s: the wire bytes cannot have moved faster.
    expect(seconds).toBeGreaterThanOrEqual(r.wireBytes / 92_160);
    expect(activePayload(dir)).toEqual(noise);
  });

  it('corrects corrupted and dropped bytes on the line', async () => {
    const { pty, dir } = await kit({ faults: { corrupt: 5e-5, drop: 5e-5, seed: 3 } });
    const r = await deployOver(pty, A, 115200, { compression: 'none', blockSize: 4096 });
    expect(r.retries).toBeGreaterThan(0);
    expect(activePayload(dir)).toEqual(A);
  });

  it('switches the line rate after the handshake, and falls back when the new rate fails', async () => {
    const ok = await kit({ lineRate: 115200 });
    const r = await deployOver(ok.pty, A, 115200, { lineRate: 921600 });
    expect(r.lineRate).toBe(921600);
    expect(activePayload(ok.dir)).toEqual(A);

    const bad = await kit({ lineRate: 115200, badRates: [921600] });
    const f = await deployOver(bad.pty, A, 115200, { lineRate: 921600 });
    expect(f.lineRate).toBe(115200);
    expect(activePayload(bad.dir)).toEqual(A);
  });

  it('survives a pulled cable mid-upload: the next deploy resumes from the durable mark', async () => {
    const { pty, dir } = await kit({ faults: { disconnectAfter: Math.floor(A.length / 2) } });
    await expect(deployOver(pty, A, 115200, { compression: 'none', blockSize: 2048, timings: { ...FAST, maxRetries: 3 } })).rejects.toMatchObject({
      code: expect.stringMatching(/DEVICE_TIMEOUT|DEVICE_DISCONNECTED/),
    });
    const journal = readSlots(dir).upload;
    expect(journal?.durable).toBeGreaterThan(0);
    expect(readSlots(dir).active).toBeNull();
    const r = await deployOver(pty, A, 115200, { compression: 'none', blockSize: 2048 });
    expect(r.resumedFrom).toBe(journal!.durable);
    expect(activePayload(dir)).toEqual(A);
  });
});
