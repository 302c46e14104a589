import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../../core/api/contract.js';
import { resolvePaths } from '../../../core/config/paths.js';
import { startEmulator, type Emulator } from '../../../emulator/emulator.js';
import { spawn } from 'node:child_process';
import { BIN, ROOT, runCli, tempHome } from '../../support/cli.js';
import { waitFor } from '../../support/ports.js';
import { activePayload, stateDir } from '../../support/emulator.js';
import { ptyPair, type PtyPair } from '../../support/pty.js';
import { codeModule, helloModule } from '../../support/wasm.js';

const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 30_000 });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Kit {
  name: string;
  /** What devices.json says it is. */
  listed: string;
  /** The URI the host uses (serial: the host's end of the pty pair). */
  uri: string;
  emu: Emulator;
  dir: string;
}
const kits: Kit[] = [];
const ptys: PtyPair[] = [];
const byName = (name: string): Kit => kits.find((k) => k.name === name)!;

async function kit(name: string, platform: string, listed: string, via: 'tcp' | 'serial', faults = {}): Promise<void> {
  const dir = stateDir();
  const pty = via === 'serial' ? await ptyPair() : undefined;
  if (pty) ptys.push(pty);
  const target = pty ? { serial: pty.device } : { listen: 'tcp://127.0.0.1:0' };
  const emu = await startEmulator({ platform, stateDir: dir, checkpointBytes: 16 << 10, faults, paths, ...target });
  kits.push({ name, listed, uri: pty ? emu.uri.replace(pty.device, pty.host) : emu.uri, emu, dir });
}
const paths = resolvePaths(env);

beforeAll(async () => {
  await Promise.all([
    kit('vita-1', 'vita', 'vita', 'tcp'),
    kit('vita-2', 'vita', 'vita', 'tcp'),
    kit('v6r-1', 'v6r-small', 'v6r-small', 'tcp'),
    kit('v6r-2', 'v6r-medium', 'v6r-medium', 'tcp'),
    // Fails: the cable is pulled after 3000 bytes.
    kit('dc-cut', 'dreamcast', 'dreamcast', 'tcp', { disconnectAfter: 3000 }),
    // Fails: listed as a vita, but the kit on that port is a dreamcast.
    kit('vita-3', 'dreamcast', 'vita', 'tcp'),
    kit('dc-serial', 'dreamcast', 'dreamcast', 'serial'),
    kit('vita-serial', 'vita', 'vita', 'serial'),
  ]);
  mkdirSync(paths.config, { recursive: true });
  writeFileSync(path.join(paths.config, 'devices.json'), JSON.stringify({ devices: kits.map((k) => ({ name: k.name, uri: k.uri, platform: k.listed })) }));
});
afterAll(async () => {
  await Promise.all(kits.map((k) => k.emu.close()));
  await Promise.all(ptys.map((p) => p.close()));
});

interface FleetJson {
  sha256: string;
  succeeded: number;
  failed: number;
  results: Array<{ device: string; ok: boolean; error?: { code: string }; result?: { receipt: { id: string; session: string | null } } }>;
}

describe('flightdeck deploy to a fleet', () => {
  it('eight kits (TCP and serial, mixed platforms) in one command: two fail, six commit identical slots, receipts prove it', async () => {
    const bytes = codeModule(200, 77);
    const file = path.join(home, 'fleet.wasm');
    writeFileSync(file, bytes);
    const order = ['vita-1', 'dc-serial', 'dc-cut', 'v6r-1', 'vita-3', 'vita-2', 'vita-serial', 'v6r-2'];
    const r = await cli(['deploy', file, ...order.flatMap((n) => ['--device', n]), '--concurrency', '8', '--timeout', '1500', '--json']);
    // The exit code of the first failed device in the order given: dc-cut's DEVICE_DISCONNECTED (8), not vita-3's 7.
    expect(r.code, r.stderr).toBe(8);
    const fleet = JSON.parse(r.stdout) as FleetJson;
    expect(fleet).toMatchObject({ sha256: sha(bytes), succeeded: 6, failed: 2 });
    expect(fleet.results.map((x) => x.device)).toEqual(order);
    const entry = new Map(fleet.results.map((x) => [x.device, x]));
    expect(entry.get('dc-cut')).toMatchObject({ ok: false, error: { code: 'DEVICE_DISCONNECTED' } });
    expect(entry.get('vita-3')).toMatchObject({ ok: false, error: { code: 'DEVICE_PLATFORM_MISMATCH' } });

    const good = kits.filter((k) => !['dc-cut', 'vita-3'].includes(k.name));
    for (const k of good) {
      expect(entry.get(k.name)?.ok, k.name).toBe(true);
      expect(activePayload(k.dir), k.name).toEqual(bytes);
    }
    expect(activePayload(byName('vita-3').dir)).toBeNull();
    expect(activePayload(byName('dc-cut').dir)).toBeNull();

    // JSON events are tagged by device: every kit reached a phase, and each got one result event.
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; device?: string; ok?: boolean; code?: string });
    for (const k of kits)
      expect(
        events.some((e) => e.event === 'phase' && e.device === k.name),
        k.name,
      ).toBe(true);
    expect(
      events
        .filter((e) => e.event === 'result')
        .map((e) => `${e.device}:${e.ok}`)
        .sort(),
    ).toEqual(kits.map((k) => `${k.name}:${!['dc-cut', 'vita-3'].includes(k.name)}`).sort());
    expect(events.some((e) => e.event === 'progress' && e.device === 'vita-serial')).toBe(true);

    // Receipts: one per committed kit, each chain complete, the device's own hash equal to its slot on disk.
    const listed = await cli(['receipts', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const receipts = (JSON.parse(listed.stdout) as { receipts: Receipt[] }).receipts;
    expect(receipts).toHaveLength(6);
    for (const k of good) {
      const rc = receipts.find((x) => x.device.name === k.name)! as Receipt & { file: string };
      expect(rc, k.name).toBeDefined();
      expect(rc).toMatchObject({
        schema: 'flightdeck.receipt/v1',
        operator: expect.any(String),
        tool: { name: 'flightdeck', version: expect.stringMatching(/^\d+\.\d+\.\d+/) },
        source: null,
        payload: { name: 'fleet.wasm', sha256: sha(bytes), size: bytes.length },
        device: { uri: k.uri, platform: k.emu.platform, serial: k.emu.serial, firmware: expect.stringContaining('flightdeck-emulator') },
        reported: { sha256: sha(activePayload(k.dir)!), matches: true },
        outcome: 'committed',
      });
      expect(JSON.parse(readFileSync(rc.file, 'utf8'))).toMatchObject({ id: rc.id });
      expect(entry.get(k.name)?.result?.receipt.id).toBe(rc.id);
    }
    const one = await cli(['receipts', '--device', byName('vita-1').emu.serial, '--json']);
    expect((JSON.parse(one.stdout) as { receipts: unknown[] }).receipts).toHaveLength(1);
  });

  it('--all-matching PLATFORM deploys to the listed kits of that platform and prints the summary', async () => {
    const bytes = codeModule(150, 78);
    const file = path.join(home, 'v6r.wasm');
    writeFileSync(file, bytes);
    // v6r-1 also given by URI first: deployed once, listed as given first.
    const r = await cli(['deploy', file, '--all-matching', 'v6r-small', '--device', byName('v6r-1').uri]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`v6r.wasm  sha256:${sha(bytes)}`);
    expect(r.stdout).toContain(`✔ ${byName('v6r-1').uri}: committed, slot B,`);
    expect(r.stdout.match(/✔ /g)).toHaveLength(1);
    expect(r.stdout).toMatch(new RegExp(`device reports sha256:${sha(bytes)} matches`));
    expect(r.stdout).toContain('1 succeeded, 0 failed');
    expect(activePayload(byName('v6r-1').dir)).toEqual(bytes);

    // An unknown name fails on its own line; the others go on (here: already active).
    const mixed = await cli(['deploy', file, '--device', 'no-such-kit', '--device', 'v6r-1', '--json']);
    expect(mixed.code).toBe(8);
    expect(JSON.parse(mixed.stdout)).toMatchObject({
      succeeded: 1,
      failed: 1,
      results: [
        { device: 'no-such-kit', ok: false, error: { code: 'DEVICE_NOT_FOUND' } },
        { device: 'v6r-1', ok: true, result: { outcome: 'already-active' } },
      ],
    });

    const none = await cli(['deploy', file, '--all-matching', 'gamecube']);
    expect(none.code).toBe(8);
    expect(none.stderr).toContain('error[DEVICE_NOT_FOUND]');
  });

  it('deploy --run saves the session with timestamps, linked from the receipt; monitor --save links to it too', async () => {
    const file = path.join(home, 'hello.wasm');
    writeFileSync(file, helloModule('fleet says hi\n', 0));
    const r = await cli(['deploy', file, '--device', 'vita-1', '--run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { receipt: { id: string; session: string; exitCode: number } };
    expect(result.receipt.exitCode).toBe(0);
    const [header, ...lines] = readFileSync(result.receipt.session, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header.session).toMatchObject({ device: byName('vita-1').uri, receipt: result.receipt.id });
    expect(lines).toContainEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), stream: 'stdout', text: 'fleet says hi\n' });

    const saved = path.join(home, 'monitor.jsonl');
    const m = await cli(['monitor', 'vita-1', '--no-follow', '--save', saved]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toContain(`saved to ${saved}`);
    const [mh, ...ml] = readFileSync(saved, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(mh.session).toMatchObject({ receipt: result.receipt.id, payloadSha256: sha(readFileSync(file)) });
    expect(ml.some((l: { text: string }) => l.text === 'fleet says hi\n')).toBe(true);

    // Following until Ctrl+C: the session is saved when it ends, still linked to the receipt.
    const followed = path.join(home, 'follow.jsonl');
    const child = spawn(process.execPath, [BIN, 'monitor', 'vita-1', '--save', followed], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(async () => out.includes('fleet says hi'), 'monitor to replay the log');
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(child.exitCode).toBe(0);
    const [fh] = readFileSync(followed, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(fh.session).toMatchObject({ receipt: result.receipt.id });
  });
});
