import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../emulator/emulator.js';
import { runCli, tempHome } from '../../support/cli.js';
import { activePayload, readSlots, stateDir, tcpEmulator } from '../../support/emulator.js';
import { codeModule, withCustomSection } from '../../support/wasm.js';

const home = tempHome();
const cli = (args: string[]) => runCli(args, { env: { FLIGHTDECK_HOME: home }, timeoutMs: 30_000 });
const started: Emulator[] = [];
afterAll(async () => {
  await Promise.all(started.map((e) => e.close()));
});

function payloadFile(name: string): [string, Buffer] {
  const bytes = withCustomSection(codeModule(50, 9), 'assets', randomBytes(400 << 10));
  const file = path.join(home, name);
  writeFileSync(file, bytes);
  return [file, bytes];
}

describe('deploy --reconnect: a kit that goes away and comes back', () => {
  it('with the same serial number is recognised and the upload resumes where it stood', async () => {
    const [file, bytes] = payloadFile('big.wasm');
    const dir = stateDir();
    const emu = await tcpEmulator({ stateDir: dir, faults: { disconnectAfter: 250_000 } });
    started.push(emu);
    const r = await cli(['deploy', file, '--device', emu.uri, '--reconnect', '5', '--timeout', '1000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { outcome: string; resumedFrom: number; serial: string; receipt: { device: { serial: string } } };
    expect(result.outcome).toBe('committed');
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(result.serial).toBe(emu.serial);
    expect(result.receipt.device.serial).toBe(emu.serial);
    expect(r.stderr).toContain('"phase":"reconnect"');
    expect(activePayload(dir)).toEqual(bytes);
  });

  it('with another serial number is refused (DEVICE_CHANGED) and gets nothing; without --reconnect the cut is final', async () => {
    const [file] = payloadFile('other.wasm');
    const dirB = stateDir();
    let other: Emulator | undefined;
    const first: Emulator = await tcpEmulator({
      stateDir: stateDir(),
      faults: { crashAt: 'mid-block' },
      // The kit dies mid-upload; a different kit appears on the same address.
      crash: () =>
        void first.close().then(async () => {
          other = await tcpEmulator({ stateDir: dirB, listen: first.uri });
          started.push(other);
        }),
    });
    const r = await cli(['deploy', file, '--device', first.uri, '--reconnect', '5', '--timeout', '1000']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('error[DEVICE_CHANGED]');
    expect(r.stderr).toContain(`not ${first.serial}`);
    expect(other?.serial).toBeDefined();
    expect(r.stderr).toContain(other!.serial);
    expect(readSlots(dirB)).toMatchObject({ active: null, A: null, B: null, upload: null });

    const cut = await tcpEmulator({ stateDir: stateDir(), faults: { disconnectAfter: 100_000 } });
    started.push(cut);
    const once = await cli(['deploy', file, '--device', cut.uri, '--timeout', '1000']);
    expect(once.code).toBe(8);
    expect(once.stderr).toContain('error[DEVICE_DISCONNECTED]');
  });
});
