/**
 * Issue 21: `flightdeck device conformance` against the reference emulator and against
 * test/conformance/device.py, a second device written from docs/protocol.md alone in Python's standard
 * library; a deploy and a rollback through the ordinary host path to that device; ROLLBACK with a lost reply.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { readSlots, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { codeModule } from '../../support/wasm.js';

const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
const DEVICE_PY = path.join(ROOT, 'test', 'conformance', 'device.py');

interface PyDevice {
  uri: string;
  dir: string;
  child: ChildProcess;
}
const started: PyDevice[] = [];
const emulators: EmulatorProcess[] = [];

/** Start device.py on a free loopback port; resolves with the URI it prints once it listens. */
async function pythonDevice(args: string[] = []): Promise<PyDevice> {
  const dir = stateDir();
  const child = spawn('python3', [DEVICE_PY, '--state', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`device.py exited with ${code}: ${stderr}`)));
  });
  const device = { uri: (JSON.parse(line) as { uri: string }).uri, dir, child };
  started.push(device);
  return device;
}

interface Report {
  checks: Array<{ id: string; ok: boolean; detail: string }>;
  passed: number;
  failed: number;
}

let py: PyDevice;
let emu: EmulatorProcess;
beforeAll(async () => {
  py = await pythonDevice();
  emu = await spawnEmulator(['--platform', 'v6r-small', '--listen', 'tcp://127.0.0.1:0', '--state', stateDir()], env);
  emulators.push(emu);
});
afterAll(async () => {
  for (const d of started) {
    d.child.kill('SIGTERM');
    await new Promise((r) => (d.child.exitCode !== null || d.child.signalCode !== null ? r(undefined) : d.child.once('exit', r)));
  }
  await Promise.all(emulators.map((e) => e.stop()));
});

describe('flightdeck device conformance (issue 21)', () => {
  it('the reference emulator passes every check; --json prints the report and one event per check', async () => {
    const r = await cli(['device', 'conformance', emu.uri, '--json', '--payload-size', '32768']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.checks.length).toBeGreaterThanOrEqual(18);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('"event":"check"')),
    ).toHaveLength(report.checks.length);
  });

  it('a device written from docs/protocol.md alone in Python (test/conformance/device.py) passes every check', async () => {
    const r = await cli(['device', 'conformance', py.uri, '--payload-size', '32768']);
    expect(r.stdout).toMatch(/Conformance of v6r-small \(flightdeck-conformance-python 1\): \d+ passed, 0 failed/);
    expect(r.code).toBe(0);
  });

  it('the suite fails a device whose ROLLBACK swaps on every copy, and says which check', async () => {
    const buggy = await pythonDevice(['--bug', 'rollback-swap']);
    const r = await cli(['device', 'conformance', buggy.uri, '--json', '--payload-size', '16384']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.filter((c) => !c.ok).map((c) => c.id)).toContain('rollback');
    expect(report.checks.find((c) => c.id === 'rollback')?.detail).toMatch(/swapped back|not the previous payload/);
  });
});

describe('the ordinary host against the Python device, and ROLLBACK with a lost reply (issue 21)', () => {
  const work = path.join(home, 'payloads');
  const file = (name: string, bytes: Buffer) => {
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, name), bytes);
    return path.join(work, name);
  };

  it('deploy (8 KiB maxFrame, deflate), status and rollback work against device.py', async () => {
    const dev = await pythonDevice();
    const one = file('one.wasm', codeModule(400, 1));
    const two = file('two.wasm', codeModule(400, 2));
    for (const f of [one, two]) {
      const r = await cli(['deploy', f, '--device', dev.uri, '--platform', 'v6r-small', '--compression', 'deflate']);
      expect(r.code, r.stderr).toBe(0);
    }
    const rb = await cli(['device', 'rollback', dev.uri]);
    expect(rb.code).toBe(0);
    expect(readSlots(dev.dir)).toMatchObject({ active: 'A', A: codeModule(400, 1) });
  });

  it('device rollback when the STATE reply is lost (--fault-drop-reply ROLLBACK): the previous payload stays active, exit 0', async () => {
    const dir = stateDir();
    const faulty = await spawnEmulator(['--platform', 'v6r-small', '--listen', 'tcp://127.0.0.1:0', '--state', dir, '--fault-drop-reply', 'ROLLBACK'], env);
    emulators.push(faulty);
    for (const tag of [1, 2]) expect((await cli(['deploy', file(`p${tag}.wasm`, codeModule(50, tag)), '--device', faulty.uri])).code).toBe(0);
    expect(readSlots(dir).active).toBe('B');
    const rb = await cli(['device', 'rollback', faulty.uri, '--timeout', '1000']);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain('slot A is active');
    expect(readSlots(dir).active).toBe('A');
  });
});
