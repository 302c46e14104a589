import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../../core/api/contract.js';
import type { ListedReceipt } from '../../../core/deploy/schema.js';
import type { LabDeployResult, LabLock, LabLockResult, LabStatusResult, LabSyncResult } from '../../../core/lab/schema.js';
import { resolvePaths } from '../../../core/config/paths.js';
import { startEmulator, type Emulator } from '../../../emulator/emulator.js';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, stateDir } from '../../support/emulator.js';
import { ociLayout } from '../../support/oci-layout.js';
import { ptyPair, type PtyPair } from '../../support/pty.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { tarGz } from '../../support/tar.js';
import { codeModule } from '../../support/wasm.js';
import { cosignKey, cosignSign } from '../../support/cosign.js';

// Lab files on real parts: a docker-registry holding the demo bundles (copied by skopeo), three reference
// emulators (two vita kits on TCP, a dreamcast on a serial pty through socat), the built CLI.
const KIT = path.join(ROOT, 'assets', 'demo-kit');
const TAG = '2026.11.01';
const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const paths = resolvePaths(env);
const work = mkdtempSync(path.join(os.tmpdir(), 'fd-lab-'));
const LAB = path.join(work, 'flightdeck.lab.yaml');
const LOCK = path.join(work, 'flightdeck.lab.lock');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cli = (args: string[], e: NodeJS.ProcessEnv = env) => runCli(args, { env: e, timeoutMs: 60_000 });
const json = <T>(r: { stdout: string; stderr: string }): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON: ${r.stdout}\n${r.stderr}`);
  }
};

let registry: TestRegistry;
let registryStopped = false;
let pty: PtyPair;
interface Kit {
  name: string;
  uri: string;
  emu: Emulator;
  dir: string;
  stopped?: boolean;
}
const kits: Kit[] = [];
const kit = (name: string) => kits.find((k) => k.name === name)!;

async function startKit(name: string, platform: string, via: 'tcp' | 'serial'): Promise<void> {
  const dir = stateDir();
  const target = via === 'serial' ? { serial: pty.device } : { listen: 'tcp://127.0.0.1:0' };
  const emu = await startEmulator({ platform, stateDir: dir, checkpointBytes: 16 << 10, paths, ...target });
  kits.push({ name, uri: via === 'serial' ? emu.uri.replace(pty.device, pty.host) : emu.uri, emu, dir });
}

function skopeo(from: string, to: string): void {
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', from, `docker://${registry.host}/${to}`]);
}

/** The digest the registry serves for a tag, read independently with skopeo. */
function registryDigest(repo: string): string {
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${repo}`]);
  return `sha256:${sha(raw)}`;
}

beforeAll(async () => {
  registry = await startRegistry();
  for (const p of ['vita', 'dreamcast']) skopeo(`oci:${KIT}:flight/shared-types/bundles/${p}:latest`, `flight/shared-types/bundles/${p}:${TAG}`);
  skopeo(`oci:${KIT}:flight/shared-types/manifest:latest`, 'flight/shared-types/manifest:latest');
  pty = await ptyPair();
  await Promise.all([startKit('vita-01', 'vita', 'tcp'), startKit('vita-02', 'vita', 'tcp'), startKit('dc-serial', 'dreamcast', 'serial')]);
  writeFileSync(
    LAB,
    `# three kits of the bench
source: ${registry.host}/flight/shared-types
bundles:
  vita: { tag: "${TAG}" }
  dreamcast: { tag: "${TAG}" }
devices:
  - { name: vita-01, uri: "${kit('vita-01').uri}", platform: vita, module: flight-memory-validation }
  - { name: vita-02, uri: "${kit('vita-02').uri}", platform: vita, serialNumber: "${kit('vita-02').emu.serial}" }
  - { name: dc-serial, uri: "${kit('dc-serial').uri}", platform: dreamcast }
`,
  );
}, 60_000);
afterAll(async () => {
  await Promise.all(kits.filter((k) => !k.stopped).map((k) => k.emu.close()));
  await pty?.close();
  if (!registryStopped) await registry?.stop();
});

let firstLock: LabLockResult;

describe('flightdeck lab', () => {
  it('lab lock resolves every tag to the registry’s digest and writes the same bytes twice', async () => {
    const a = await cli(['lab', 'lock', '--lab', LAB, '--json']);
    expect(a.code, a.stderr).toBe(0);
    firstLock = json<LabLockResult>(a);
    const bytes = readFileSync(LOCK);
    expect(firstLock).toMatchObject({ file: LAB, lock: LOCK, changed: true, lockDigest: `sha256:${sha(bytes)}` });
    const lock = JSON.parse(bytes.toString()) as LabLock;
    for (const p of ['vita', 'dreamcast']) expect(lock.bundles[p]!.digest, p).toBe(registryDigest(`flight/shared-types/bundles/${p}:${TAG}`));
    expect(Object.keys(lock.bundles.vita!.payloads).sort()).toEqual(['', 'flight-memory-validation']);
    // Keys sorted at every level: the text is its own canonical form.
    expect(Object.keys(lock)).toEqual(['bundles', 'schema', 'source']);

    const b = await cli(['lab', 'lock', '--lab', LAB, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(json<LabLockResult>(b)).toMatchObject({ changed: false, moved: [], lockDigest: firstLock.lockDigest });
    expect(readFileSync(LOCK)).toEqual(bytes);
    // Written temp + rename: nothing else is left in the folder.
    expect(readdirSync(work).sort()).toEqual(['flightdeck.lab.lock', 'flightdeck.lab.yaml']);
  });

  it('lab sync pulls the locked bundles and passes the checks; lab deploy flashes every kit, then skips kits in sync', async () => {
    const s = await cli(['lab', 'sync', '--lab', LAB, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const sync = json<LabSyncResult>(s);
    expect(sync).toMatchObject({ ok: true, problems: [] });
    expect(sync.bundles.map((b) => b.platform)).toEqual(['dreamcast', 'vita']);

    const d = await cli(['lab', 'deploy', '--lab', LAB, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const deployed = json<LabDeployResult>(d);
    expect(deployed).toMatchObject({ succeeded: 3, failed: 0, skipped: [] });
    const lock = firstLock.content;
    const want = {
      'vita-01': lock.bundles.vita!.payloads['flight-memory-validation']!,
      'vita-02': lock.bundles.vita!.payloads['']!,
      'dc-serial': lock.bundles.dreamcast!.payloads['']!,
    };
    for (const k of kits) expect(sha(activePayload(k.dir)!), k.name).toBe(want[k.name as keyof typeof want].sha256);
    // Receipts name the lab file, the lock digest and the lab's device; the source is the tag the lab asked
    // for beside the digest its lock pins (what was pulled), and the module, as receipts list them.
    const receipts = json<{ receipts: ListedReceipt[] }>(await cli(['receipts', '--json'])).receipts;
    expect(receipts).toHaveLength(3);
    for (const r of receipts) {
      expect(r.lab).toEqual({ file: LAB, lockDigest: firstLock.lockDigest, device: r.device.name });
      expect(r.reported.matches).toBe(true);
      expect(r.source?.manifestDigest).toBe(lock.bundles[r.device.platform]!.digest);
      expect(r.reference).toBe(`${registry.host}/flight/shared-types/bundles/${r.device.platform}:${TAG}@${lock.bundles[r.device.platform]!.digest}`);
      expect(r.module).toBe(r.device.name === 'vita-01' ? 'flight-memory-validation' : path.basename(want[r.device.name as keyof typeof want].file, '.wasm'));
    }

    const again = await cli(['lab', 'deploy', '--lab', LAB, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json<LabDeployResult>(again)).toMatchObject({ succeeded: 0, failed: 0, skipped: ['vita-01', 'vita-02', 'dc-serial'], results: [] });
    expect(json<{ receipts: Receipt[] }>(await cli(['receipts', '--json'])).receipts).toHaveLength(3);

    const st = await cli(['lab', 'status', '--lab', LAB]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain('3 in sync, 0 drifted, 0 offline, 0 unknown');
  });

  it('a tag moved in the registry changes nothing until lab lock runs again; then the kit shows drifted and lab deploy brings it along', async () => {
    const moved = codeModule(40, 91);
    const layout = mkdtempSync(path.join(os.tmpdir(), 'fd-lab-moved-'));
    const manifest = JSON.stringify({ platform: 'dreamcast', modules: [{ file: 'wasm/flight-moved.wasm' }] });
    ociLayout(
      layout,
      'moved',
      [
        {
          mediaType: 'application/tar+gzip',
          title: 'dreamcast.tar.gz',
          bytes: tarGz([
            { name: 'dreamcast/manifest.json', body: manifest },
            { name: 'dreamcast/wasm/flight-moved.wasm', body: moved },
          ]),
        },
      ],
      { 'flight.target-platform': 'dreamcast' },
    );
    skopeo(`oci:${layout}:moved`, `flight/shared-types/bundles/dreamcast:${TAG}`);
    const newDigest = registryDigest(`flight/shared-types/bundles/dreamcast:${TAG}`);
    const old = firstLock.content.bundles.dreamcast!;
    expect(newDigest).not.toBe(old.digest);

    // Still the locked payload: forced re-flash sends the old bytes, status says in sync.
    const d = await cli(['lab', 'deploy', '--lab', LAB, '--device', 'dc-serial', '--force', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(json<LabDeployResult>(d).results).toMatchObject([{ device: 'dc-serial', ok: true, result: { sha256: old.payloads['']!.sha256 } }]);
    expect(sha(activePayload(kit('dc-serial').dir)!)).toBe(old.payloads['']!.sha256);
    expect((await cli(['lab', 'status', '--lab', LAB])).code).toBe(0);

    // lab lock sees the move; the kit now runs what the old lock said.
    const l = await cli(['lab', 'lock', '--lab', LAB, '--json']);
    expect(l.code, l.stderr).toBe(0);
    const relocked = json<LabLockResult>(l);
    expect(relocked).toMatchObject({ changed: true, moved: [{ platform: 'dreamcast', from: old.digest, to: newDigest }] });
    expect(relocked.content.bundles.dreamcast!.payloads['']).toEqual({ file: 'wasm/flight-moved.wasm', sha256: sha(moved), size: moved.length });
    const st = await cli(['lab', 'status', '--lab', LAB, '--json']);
    expect(st.code).toBe(7);
    const dc = json<LabStatusResult>(st).devices.find((x) => x.name === 'dc-serial')!;
    expect(dc).toMatchObject({
      state: 'drifted',
      locked: { sha256: sha(moved) },
      runs: { sha256: old.payloads['']!.sha256, lockDigest: firstLock.lockDigest },
    });

    const d2 = await cli(['lab', 'deploy', '--lab', LAB, '--json']);
    expect(d2.code, d2.stderr).toBe(0);
    expect(json<LabDeployResult>(d2)).toMatchObject({ succeeded: 1, skipped: ['vita-01', 'vita-02'] });
    expect(activePayload(kit('dc-serial').dir)).toEqual(moved);
  });

  it('a kit re-flashed by hand shows as drifted with what it runs (from its receipt), and the exit code says so', async () => {
    const hand = codeModule(30, 55);
    const file = path.join(home, 'hand.wasm');
    writeFileSync(file, hand);
    const h = await cli(['deploy', file, '--device', kit('vita-02').uri, '--json']);
    expect(h.code, h.stderr).toBe(0);
    const receipt = json<{ receipt: Receipt }>(h).receipt;

    const st = await cli(['lab', 'status', '--lab', LAB, '--json']);
    expect(st.code).toBe(7);
    const status = json<LabStatusResult>(st);
    expect(status.counts).toEqual({ 'in-sync': 2, drifted: 1, offline: 0, 'unknown-device': 0 });
    expect(status.devices.find((x) => x.name === 'vita-02')).toMatchObject({
      state: 'drifted',
      serial: kit('vita-02').emu.serial,
      runs: { sha256: sha(hand), payload: 'hand.wasm', receipt: receipt.id, lockDigest: null },
    });
    const human = await cli(['lab', 'status', '--lab', LAB]);
    expect(human.code).toBe(7);
    expect(human.stdout).toMatch(/vita-02\s+vita\s+drifted.*hand\.wasm.*receipt/);
  });

  it('a stopped emulator shows as offline, exit 8; lab deploy fails it on its own line and brings the drifted kit back', async () => {
    kit('vita-01').stopped = true;
    await kit('vita-01').emu.close();
    const d = await cli(['lab', 'deploy', '--lab', LAB, '--json']);
    expect(d.code).toBe(8);
    const r = json<LabDeployResult>(d);
    expect(r).toMatchObject({ succeeded: 1, failed: 1, skipped: ['dc-serial'] });
    expect(r.results.find((x) => x.device === 'vita-01')).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^DEVICE_/) } });
    expect(r.results.find((x) => x.device === 'vita-02')).toMatchObject({ ok: true });

    const st = await cli(['lab', 'status', '--lab', LAB, '--json']);
    expect(st.code).toBe(8);
    const status = json<LabStatusResult>(st);
    expect(status.counts).toEqual({ 'in-sync': 2, drifted: 0, offline: 1, 'unknown-device': 0 });
    expect(status.devices[0]).toMatchObject({ name: 'vita-01', state: 'offline', error: { code: expect.stringMatching(/^DEVICE_/) } });
    // Only the kits asked for: those in sync exit 0.
    expect((await cli(['lab', 'status', '--lab', LAB, '--device', 'vita-02', '--device', 'dc-serial'])).code).toBe(0);
  });

  it('a kit answering with another serial number is an unknown device and is never flashed', async () => {
    const other = path.join(work, 'swapped.lab.yaml');
    writeFileSync(other, readFileSync(LAB, 'utf8').replace(kit('vita-02').emu.serial, 'FDE-000000000000'));
    writeFileSync(path.join(work, 'swapped.lab.lock'), readFileSync(LOCK));
    const before = activePayload(kit('vita-02').dir);
    const d = await cli(['lab', 'deploy', '--lab', other, '--device', 'vita-02', '--force', '--json']);
    expect(d.code).toBe(8);
    expect(json<LabDeployResult>(d).results).toMatchObject([{ device: 'vita-02', ok: false, error: { code: 'DEVICE_CHANGED' } }]);
    expect(activePayload(kit('vita-02').dir)).toEqual(before);
    const st = json<LabStatusResult>(await cli(['lab', 'status', '--lab', other, '--device', 'vita-02', '--json']));
    expect(st.devices[0]).toMatchObject({ state: 'unknown-device', error: { code: 'DEVICE_CHANGED' } });
  });

  it('a stale lock is refused until lab lock runs', async () => {
    const stale = path.join(work, 'stale.lab.yaml');
    writeFileSync(stale, readFileSync(LAB, 'utf8').replace(`dreamcast: { tag: "${TAG}" }`, 'dreamcast: { tag: "latest" }'));
    writeFileSync(path.join(work, 'stale.lab.lock'), readFileSync(LOCK));
    for (const cmd of ['status', 'deploy', 'sync']) {
      const r = await cli(['lab', cmd, '--lab', stale, '--json']);
      expect(r.code, cmd).toBe(3);
      expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({
        code: 'LAB_LOCK_STALE',
        message: expect.stringContaining('dreamcast'),
      });
    }
    const bad = await cli(['lab', 'lock', '--lab', path.join(work, 'missing.yaml'), '--json']);
    expect(json<{ error: { code: string } }>(bad).error.code).toBe('NOT_FOUND');
  });

  it('lab sync fails on every finding: a bundle built for another platform, then an unsigned bundle under the lab’s policy', async () => {
    // The vita bundle published under the dreamcast repository: it does not fit a dreamcast.
    skopeo(`oci:${KIT}:flight/shared-types/bundles/vita:latest`, 'flight/shared-types/bundles/dreamcast:wrong');
    const key = cosignKey();
    await cosignSign(registry.host, 'flight/shared-types/bundles/vita', registryDigest(`flight/shared-types/bundles/vita:${TAG}`), key);
    writeFileSync(
      path.join(work, 'policy.json'),
      JSON.stringify({ keys: { lab: key.publicPem }, rules: [{ repository: 'flight/shared-types/bundles/*', keys: ['lab'] }] }),
    );
    const file = path.join(work, 'checked.lab.yaml');
    const text = `source: ${registry.host}/flight/shared-types
bundles:
  vita: { tag: "${TAG}" }
  dreamcast: { tag: wrong }
devices:
  - { name: dc-serial, uri: "${kit('dc-serial').uri}", platform: dreamcast }
  - { name: vita-02, uri: "${kit('vita-02').uri}", platform: vita }
`;
    writeFileSync(file, text);
    expect((await cli(['lab', 'lock', '--lab', file])).code).toBe(0);
    const s = await cli(['lab', 'sync', '--lab', file, '--json']);
    expect(s.code).toBe(7);
    const sync = json<LabSyncResult>(s);
    expect(sync.ok).toBe(false);
    expect(sync.problems.length).toBeGreaterThan(0);
    for (const p of sync.problems) expect(p).toMatchObject({ code: 'PAYLOAD_CHECK_FAILED', subject: 'bundles.dreamcast' });
    expect(sync.problems[0]!.message).toContain('built for vita, not dreamcast');
    expect(sync.bundles.find((b) => b.platform === 'vita')?.payloads.every((p) => p.fits)).toBe(true);
    // The deploy refuses it too: the device's check, nothing sent.
    const before = activePayload(kit('dc-serial').dir);
    const d = await cli(['lab', 'deploy', '--lab', file, '--device', 'dc-serial', '--json']);
    expect(d.code).toBe(7);
    expect(activePayload(kit('dc-serial').dir)).toEqual(before);

    // With the lab's policy: vita is verified by the lab key, the unsigned dreamcast bundle is refused.
    writeFileSync(file, `${text}policy: ./policy.json\n`);
    const p = await cli(['lab', 'sync', '--lab', file, '--json']);
    const signed = json<LabSyncResult>(p);
    expect(p.code, p.stdout).toBe(6);
    expect(signed.problems[0]).toMatchObject({ code: 'SIGNATURE_REQUIRED', subject: 'bundles.dreamcast' });
    expect(signed.bundles.find((b) => b.platform === 'vita')?.signature).toEqual({ rule: 'flight/shared-types/bundles/*', verifiedBy: ['lab'] });
  });

  it('kit build --lab holds exactly the locked digests; after kit import the same lab syncs and deploys offline', async () => {
    const lock = JSON.parse(readFileSync(LOCK, 'utf8')) as LabLock;
    const tar = path.join(work, 'lab-kit.tar');
    const b = await cli(['kit', 'build', '--lab', LAB, '-o', tar, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const built = json<{ lock: { platforms: string[]; artifacts: Array<{ ref: string; digest: string; category: string }> } }>(b);
    expect(built.lock.platforms).toEqual(['dreamcast', 'vita']);
    expect(built.lock.artifacts.map((a) => [a.ref, a.digest])).toEqual([
      [`flight/shared-types/bundles/dreamcast:${TAG}`, lock.bundles.dreamcast!.digest],
      [`flight/shared-types/bundles/vita:${TAG}`, lock.bundles.vita!.digest],
    ]);

    // The air-gapped room: another machine's store, no registry at all.
    registryStopped = true;
    await registry.stop();
    const room = { FLIGHTDECK_HOME: tempHome() };
    const missing = await cli(['lab', 'sync', '--lab', LAB, '--offline', '--json'], room);
    expect(missing.code).toBe(3);
    expect(json<LabSyncResult>(missing).problems.map((p) => p.code)).toEqual(['OFFLINE_MISS', 'OFFLINE_MISS']);
    const imp = await cli(['kit', 'import', tar, '--json'], room);
    expect(imp.code, imp.stderr).toBe(0);
    const s = await cli(['lab', 'sync', '--lab', LAB, '--offline', '--json'], room);
    expect(s.code, s.stdout).toBe(0);
    expect(json<LabSyncResult>(s)).toMatchObject({ ok: true, lockDigest: `sha256:${sha(readFileSync(LOCK))}` });
    const hand = path.join(home, 'hand.wasm');
    expect((await cli(['deploy', hand, '--device', kit('dc-serial').uri], room)).code).toBe(0);
    const d = await cli(['lab', 'deploy', '--lab', LAB, '--offline', '--device', 'dc-serial', '--json'], room);
    expect(d.code, d.stdout).toBe(0);
    expect(json<LabDeployResult>(d)).toMatchObject({ succeeded: 1 });
    expect(sha(activePayload(kit('dc-serial').dir)!)).toBe(lock.bundles.dreamcast!.payloads['']!.sha256);
  });
});
