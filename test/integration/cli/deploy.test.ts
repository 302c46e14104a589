import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../../core/errors.js';
import { BIN, ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, readSlots, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { freePort, waitFor } from '../../support/ports.js';
import { codeModule, helloModule } from '../../support/wasm.js';

const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const dir = stateDir();
let emu: EmulatorProcess;
const work = path.join(home, 'payloads');
const file = (name: string, bytes: Buffer) => {
  const p = path.join(work, name);
  writeFileSync(p, bytes);
  return p;
};

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  emu = await spawnEmulator(['--platform', 'vita', '--listen', 'tcp://127.0.0.1:0', '--state', dir, '--name', 'bench-vita'], env);
});
afterAll(async () => {
  await emu?.stop();
});

const cli = (args: string[]) => runCli(args, { env });

describe('flightdeck deploy, device, monitor, devices, emulate', () => {
  it('emulate registers itself; devices lists it by name and kind', async () => {
    const r = await cli(['devices', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { devices: Array<{ kind: string; uri: string; name?: string; platform?: string }> };
    expect(report.devices).toContainEqual({ kind: 'emulator', uri: emu.uri, name: 'bench-vita', platform: 'vita' });
    const human = await cli(['devices']);
    expect(human.stdout).toMatch(new RegExp(`emulator\\s+${emu.uri}.*bench-vita, vita`));
  });

  it('deploys by device name with JSON progress events, then reports already-active', async () => {
    const bytes = codeModule(2000, 31);
    const p = file('app.wasm', bytes);
    const r = await cli(['deploy', p, '--device', 'bench-vita', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { outcome: string; slot: string; size: number; device: string };
    expect(result).toMatchObject({ outcome: 'committed', slot: 'A', size: bytes.length, device: emu.uri });
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; phase?: string });
    expect(events.filter((e) => e.event === 'phase').map((e) => e.phase)).toEqual(['connect', 'check', 'upload', 'verify', 'commit']);
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    expect(activePayload(dir)).toEqual(bytes);

    const again = await cli(['deploy', p, '--device', emu.uri]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already the active payload');
  });

  it('--run streams the payload output and reports its exit code; monitor replays and follows the log', async () => {
    const follower = spawn(process.execPath, [BIN, 'monitor', emu.uri, '--json'], { cwd: ROOT, env: { ...process.env, ...env } });
    let followed = '';
    follower.stderr.on('data', (d: Buffer) => (followed += d.toString()));
    let followedOut = '';
    follower.stdout.on('data', (d: Buffer) => (followedOut += d.toString()));
    const p = file('hello.wasm', helloModule('hello from the kit\n', 3));
    const r = await cli(['deploy', p, '--device', emu.uri, '--run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello from the kit');
    expect(r.stdout).toContain('payload exited with code 3');

    await waitFor(async () => followed.includes('hello from the kit'), 'monitor to follow the run');
    follower.kill('SIGINT');
    await new Promise((resolve) => follower.once('exit', resolve));
    expect(follower.exitCode).toBe(0);
    expect(JSON.parse(followedOut)).toMatchObject({ device: emu.uri });
    expect(followed).toContain('"stream":"stdout","text":"hello from the kit\\n"');

    const history = await cli(['monitor', emu.uri, '--no-follow', '--json']);
    expect(history.code).toBe(0);
    expect(history.stderr).toContain('exited with code 3');
    expect((JSON.parse(history.stdout) as { lines: number }).lines).toBeGreaterThanOrEqual(3);
  });

  it('device status and rollback show and switch the slots', async () => {
    const status = await cli(['device', 'status', emu.uri, '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { info: { platform: string; threads: number }; state: { active: string; slots: Record<string, unknown> } };
    expect(s.info).toMatchObject({ platform: 'vita', threads: 3 }); // the Vita profile's application threads
    expect(s.state.active).toBe('B');
    const before = readSlots(dir);
    const rb = await cli(['device', 'rollback', emu.uri]);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain('slot A is active');
    expect(activePayload(dir)).toEqual(before.A);
  });

  it('deploys a module from a demo-kit bundle and refuses a bundle for another platform', async () => {
    const index = JSON.parse(readFileSync(path.join(ROOT, 'assets/demo-kit/index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    const bundle = (platform: string) => {
      const m = index.manifests.find((x) => x.annotations['org.opencontainers.image.ref.name'] === `flight/shared-types/bundles/${platform}:latest`)!;
      const manifest = JSON.parse(readFileSync(path.join(ROOT, 'assets/demo-kit/blobs/sha256', m.digest.slice(7)), 'utf8')) as {
        layers: Array<{ digest: string }>;
      };
      return path.join(ROOT, 'assets/demo-kit/blobs/sha256', manifest.layers[0]!.digest.slice(7));
    };
    const ok = await cli(['deploy', bundle('vita'), '--module', 'flight-session-threads', '--device', emu.uri, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ outcome: 'committed', payload: expect.stringMatching(/!wasm\/flight-session-threads\.wasm$/) });

    const wrong = await cli(['deploy', bundle('dreamcast'), '--device', emu.uri]);
    expect(wrong.code).toBe(ERROR_TABLE.DEVICE_PLATFORM_MISMATCH.exit);
    expect(wrong.stderr).toMatch(/error\[DEVICE_PLATFORM_MISMATCH\]: .* is a vita device; .* is for dreamcast\. Nothing was sent\./);
  });

  it('bad input gives a stable code, a message naming the input and a hint', async () => {
    const ok = file('ok.wasm', codeModule(10, 1));
    const cases: Array<[string[], keyof typeof ERROR_TABLE, string]> = [
      [['deploy', path.join(work, 'missing.wasm'), '--device', emu.uri], 'NOT_FOUND', 'missing.wasm'],
      [['deploy', file('text.wasm', Buffer.from('hello')), '--device', emu.uri], 'PAYLOAD_INVALID', 'text.wasm'],
      [['deploy', ok, '--device', 'serial:/dev/x'], 'DEVICE_URI_INVALID', 'serial:/dev/x'],
      [['deploy', ok, '--device', 'no-such-kit'], 'DEVICE_NOT_FOUND', 'no-such-kit'],
      [['device', 'status', `tcp://127.0.0.1:${await freePort()}`], 'DEVICE_NOT_FOUND', '127.0.0.1'],
      [['emulate', '--platform', 'gamecube', '--listen', 'tcp://127.0.0.1:0'], 'PLATFORM_UNKNOWN', 'gamecube'],
      [['emulate', '--platform', 'vita', '--listen', 'tcp://127.0.0.1:0', '--crash-at', 'lunch'], 'USAGE', 'lunch'],
      [['emulate', '--platform', 'vita', '--listen', 'tcp://127.0.0.1:0', '--line-rate', '9600'], 'USAGE', '--line-rate'],
      [['emulate', '--platform', 'vita', '--listen', 'tcp://127.0.0.1:0', '--state', '/proc/version/kit'], 'IO_ERROR', '/proc/version/kit'],
      [['emulate', '--platform', 'vita', '--serial', path.join(work, 'no-such-tty')], 'DEVICE_NOT_FOUND', 'no-such-tty'],
      [['emulate', '--platform', 'vita', '--listen', 'tcp://999.1.1.1:0'], 'IO_ERROR', '999.1.1.1'],
    ];
    await Promise.all(
      cases.map(async ([args, code, named]) => {
        const r = await cli([...args, '--json']);
        expect(r.code, args.join(' ')).toBe(ERROR_TABLE[code].exit);
        const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } }).error;
        expect(err.code, args.join(' ')).toBe(code);
        expect(err.message).toContain(named);
        expect(err.hint.length).toBeGreaterThan(10);
      }),
    );
  });

  it('devices --watch reports an emulator coming and going; a stopped emulator unregisters itself', async () => {
    const watcher = spawn(process.execPath, [BIN, 'devices', '--watch', '--json'], { cwd: ROOT, env: { ...process.env, ...env } });
    let events = '';
    watcher.stderr.on('data', (d: Buffer) => (events += d.toString()));
    let first = '';
    watcher.stdout.on('data', (d: Buffer) => (first += d.toString()));
    await waitFor(async () => first.includes('"devices"'), 'the first listing');
    const other = await spawnEmulator(['--platform', 'dreamcast', '--listen', 'tcp://127.0.0.1:0', '--state', stateDir(), '--name', 'watched'], env);
    expect((await cli(['devices', '--json'])).stdout).toContain(other.uri);
    await waitFor(async () => events.includes(other.uri), 'a devices event with the new emulator');
    await other.stop();
    expect((await cli(['devices', '--json'])).stdout).not.toContain(other.uri);
    await waitFor(async () => events.trim().split('\n').at(-1)?.includes(other.uri) === false, 'a devices event without it');
    watcher.kill('SIGINT');
    await new Promise((resolve) => watcher.once('exit', resolve));
    expect(watcher.exitCode).toBe(0);
  });
});
