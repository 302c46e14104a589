import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, deltaBlockSize, type DeployOptions } from '../../../../core/deploy/deploy.js';
import { profileCheck } from '../../../../core/deploy/check.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { sha256, type Payload } from '../../../../core/deploy/payload.js';
import { HostSession } from '../../../../core/deploy/session.js';
import { parseDeviceUri } from '../../../../core/deploy/transport.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { openTcp } from '../../../../native-bridge/tcp/index.js';
import type { Emulator } from '../../../../emulator/emulator.js';
import { tempHome } from '../../../support/cli.js';
import { activePayload, readSlots, stateDir, tcpEmulator } from '../../../support/emulator.js';
import { codeModule, withCustomSection } from '../../../support/wasm.js';

const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));
const started: Emulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

const FAST = { replyMs: 1000, ackMs: 150, maxRetries: 30 };
const base: DeployOptions = { force: false, resume: true, run: false, compression: 'none', timings: FAST };

function connect(uri: string) {
  const u = parseDeviceUri(uri);
  if (u.kind !== 'tcp') throw new Error('tcp only');
  return openTcp(u.host, u.port, uri);
}
const payload = (bytes: Buffer): Payload => ({ bytes, sha256: sha256(bytes), name: 'app.wasm', platform: undefined });

/** A real module padded with a 192 KiB custom section, and a copy with one byte changed inside it. */
function pair(): [Buffer, Buffer] {
  const v1 = withCustomSection(codeModule(100, 5), 'assets', randomBytes(192 << 10));
  const v2 = Buffer.from(v1);
  v2[v2.length - 50_000]! ^= 0xff;
  return [v1, v2];
}

describe('fast reflash: block hashes first, only differing blocks, whole-payload verify', () => {
  it('a payload with one changed block sends under 10% of the bytes of a full upload (emulator byte counters)', async () => {
    const [v1, v2] = pair();
    const dir = stateDir();
    const emu = await tcpEmulator({ stateDir: dir });
    started.push(emu);

    const before = emu.counters.bytesIn;
    const first = await deploy(payload(v1), await connect(emu.uri), hostCheck, base);
    const fullBytes = emu.counters.bytesIn - before;
    expect(first.transfer).toBe('full');

    const mid = emu.counters.bytesIn;
    const second = await deploy(payload(v2), await connect(emu.uri), hostCheck, base);
    const deltaBytes = emu.counters.bytesIn - mid;
    expect(second).toMatchObject({ transfer: 'delta', outcome: 'committed' });
    expect(fullBytes).toBeGreaterThan(v1.length);
    expect(deltaBytes).toBeLessThan(fullBytes * 0.1);
    expect(activePayload(dir)).toEqual(v2);
    // The device reports its own hash of the slot after COMMIT.
    expect(second.state.activeHash).toBe(sha256(v2));
    // The previous payload stays intact in the other slot for rollback.
    const slots = readSlots(dir);
    expect(slots[slots.active === 'A' ? 'B' : 'A']).toEqual(v1);

    // --no-delta sends it all again.
    const v3 = Buffer.from(v1);
    v3[v3.length - 10]! ^= 0x01;
    const mark = emu.counters.bytesIn;
    const forced = await deploy(payload(v3), await connect(emu.uri), hostCheck, { ...base, delta: false });
    expect(forced.transfer).toBe('full');
    expect(emu.counters.bytesIn - mark).toBeGreaterThan(v3.length);
  });

  it('a wrong block list fails the device verify and commits nothing', async () => {
    const [v1, v2] = pair();
    const dir = stateDir();
    const emu = await tcpEmulator({ stateDir: dir });
    started.push(emu);
    await deploy(payload(v1), await connect(emu.uri), hostCheck, base);

    const session = await HostSession.open(await connect(emu.uri), { timings: FAST });
    try {
      const blockSize = deltaBlockSize(v2.length);
      const remote = await session.blockHashes(blockSize);
      expect(remote).toMatchObject({ sha256: sha256(v1), size: v1.length, blockSize });
      expect(remote.hashes[0]).toBe(sha256(v1.subarray(0, blockSize)));
      // Claim block 0 changed, not the block that did: the device rebuilds the wrong bytes.
      await session.upload(v2, sha256(v2), { compression: 'none', fresh: false, delta: { base: remote.sha256!, blockSize, blocks: [0] } });
      const err = await session.verify(sha256(v2), v2.length).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FlightDeckError);
      expect((err as FlightDeckError).code).toBe('DEVICE_VERIFY_FAILED');
    } finally {
      await session.close();
    }
    expect(activePayload(dir)).toEqual(v1);
    expect(readSlots(dir).upload).toBeNull();
  });

  it('falls back to a full upload when the delta does not verify (the base changed under it)', async () => {
    const [v1, v2] = pair();
    const dir = stateDir();
    let rot = false;
    const emu = await tcpEmulator({
      stateDir: dir,
      // Bit rot in the active slot right after the device hashed its blocks: the delta rebuilds wrong bytes.
      log: (m) => {
        if (rot && m.startsWith('block hashes')) {
          const s = readSlots(dir);
          const file = path.join(dir, 'slots', `${s.active}.wasm`);
          const bytes = readFileSync(file);
          bytes[100]! ^= 0xff;
          writeFileSync(file, bytes);
          rot = false;
        }
      },
    });
    started.push(emu);
    await deploy(payload(v1), await connect(emu.uri), hostCheck, base);
    rot = true;
    const mark = emu.counters.bytesIn;
    const r = await deploy(payload(v2), await connect(emu.uri), hostCheck, base);
    expect(r).toMatchObject({ transfer: 'full-after-delta', outcome: 'committed' });
    expect(emu.counters.bytesIn - mark).toBeGreaterThan(v2.length);
    expect(activePayload(dir)).toEqual(v2);
    expect(r.state.activeHash).toBe(sha256(v2));
  });
});
