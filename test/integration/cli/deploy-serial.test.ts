import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, readSlots, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { ptyPair, type PtyPair } from '../../support/pty.js';
import { waitFor } from '../../support/ports.js';
import { codeModule, withCustomSection } from '../../support/wasm.js';

const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const dir = stateDir();
let pty: PtyPair;
let emu: EmulatorProcess;

beforeAll(async () => {
  pty = await ptyPair();
  emu = await spawnEmulator(['--platform', 'dreamcast', '--serial', pty.device, '--line-rate', '115200', '--state', dir, '--checkpoint', '4096'], env);
});
afterAll(async () => {
  await emu?.stop();
  await pty?.close();
});

describe('flightdeck deploy over a serial line (pty, 115200 baud paced)', () => {
  it('a deploy killed with SIGKILL mid-upload resumes where the device stands on the next run', async () => {
    const bytes = withCustomSection(codeModule(300, 41), 'assets', randomBytes(50_000)); // ~5 s at 11.5 kB/s
    const file = path.join(home, 'kit.wasm');
    writeFileSync(file, bytes);
    const device = `serial://${pty.host}?baud=115200`;
    const first = spawn(process.execPath, [BIN, 'deploy', file, '--device', device, '--json'], { cwd: ROOT, env: { ...process.env, ...env } });
    let events = '';
    first.stderr.on('data', (d: Buffer) => (events += d.toString()));
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await waitFor(
      async () => events.split('\n').some((l) => l.includes('"progress"') && (JSON.parse(l) as { done: number }).done > 15_000),
      'the upload to pass 15 kB',
      15_000,
    );
    first.kill('SIGKILL');
    await exited;
    // No wait for bytes still on the line: the device makes an upload durable (--checkpoint 4096, less
    // than a 16 KiB block) before it acknowledges it, so the journal already holds what the host saw acked.
    const durable = readSlots(dir).upload?.durable ?? 0;
    expect(durable).toBeGreaterThan(15_000);
    expect(readSlots(dir).active).toBeNull();

    const second = await runCli(['deploy', file, '--device', device, '--json'], { env, timeoutMs: 20_000 });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const r = JSON.parse(second.stdout) as { outcome: string; resumedFrom: number; wireBytes: number; lineRate: number };
    expect(r).toMatchObject({ outcome: 'committed', lineRate: 115200 });
    expect(r.resumedFrom).toBeGreaterThanOrEqual(durable);
    expect(r.wireBytes).toBeLessThan(bytes.length - durable + 20_000);
    expect(activePayload(dir)).toEqual(bytes);
  });
});
