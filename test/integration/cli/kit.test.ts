import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempHome, waitForEvent } from '../../support/cli.js';
import { DEMO_KIT, DEMO_REFS, DEMO_VERSION, seedDemoKit } from '../../support/demo-kit.js';
import { cosignKey, cosignReferrer, cosignSign, type TestKey } from '../../support/cosign.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { readLayout } from '../../support/oci-layout.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { tar } from '../../support/tar.js';

// Kits end to end against a real docker-registry fed by skopeo with the demo kit (the master manifest and
// every artifact it lists for Dreamcast and Vita), signatures made in the cosign format with node:crypto.
const run = promisify(execFile);
const DEMO = DEMO_KIT;
const VERSION = DEMO_VERSION;
let registry: TestRegistry;
let work: string;
let release: TestKey;
let apiReferrers: Buffer;
let other: TestKey;
let lock: Record<string, unknown> & {
  artifacts: Array<{ ref: string; digest: string; signatures: Array<{ ref: string }>; verifiedBy: string[] }>;
  checks: Array<{ platform: string; fits: boolean; results: unknown[] }>;
};

const demoDigest = (ref: string): string => readLayout(DEMO).refs.find((r) => r.name === `flight/shared-types/${ref}:${VERSION}`)!.digest;
const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const from = () => `${registry.host}/flight/shared-types`;

function writePolicy(dir: string, rules: Array<{ repository: string; keys: string[]; registry?: string }>): string {
  const file = path.join(dir, `policy-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(path.join(dir, 'release.pub'), release.publicPem);
  writeFileSync(file, JSON.stringify({ keys: { release: 'release.pub', other: other.publicPem }, rules }));
  return file;
}

/** The store's index refs and blob files, to prove a refused import changed nothing. */
function storeState(home: string): string {
  const store = path.join(home, 'data', 'store');
  const index = existsSync(path.join(store, 'index.json'))
    ? (JSON.parse(readFileSync(path.join(store, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests
    : [];
  const blobs = existsSync(path.join(store, 'blobs', 'sha256')) ? readdirSync(path.join(store, 'blobs', 'sha256')).sort() : [];
  return JSON.stringify({ index, blobs });
}

beforeAll(async () => {
  registry = await startRegistry();
  work = mkdtempSync(path.join(os.tmpdir(), 'fd-kit-'));
  await seedDemoKit(registry.host, [...DEMO_REFS.map((r): [string, string] => [r, VERSION]), ['manifest', 'latest']]);
  release = cosignKey();
  other = cosignKey();
  await cosignSign(registry.host, 'flight/shared-types/bundles/dreamcast', demoDigest('bundles/dreamcast'), release);
  // Under wasm/complete's .sig tag, a valid signature whose payload names another digest (replayed).
  await cosignSign(registry.host, 'flight/shared-types/wasm/complete', demoDigest('wasm/complete'), release, demoDigest('bundles/vita'));
  // OCI referrers: session-threads through the referrers tag schema, simd-checksum only through the API.
  const subject = (ref: string) => ({
    digest: demoDigest(ref),
    size: readLayout(DEMO).refs.find((r) => r.digest === demoDigest(ref))!.size,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  });
  await cosignReferrer(registry.host, 'flight/shared-types/wasm/session-threads', subject('wasm/session-threads'), release, { tagSchema: true });
  apiReferrers = await cosignReferrer(registry.host, 'flight/shared-types/wasm/simd-checksum', subject('wasm/simd-checksum'), release, { tagSchema: false });
});
afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('kit build', () => {
  it('builds a deterministic tar from a registry: same inputs, byte-identical kit, on two machines', async () => {
    const a = path.join(work, 'a.tar');
    const b = path.join(work, 'b.tar');
    const r1 = await runCli(['--json', 'kit', 'build', '-p', 'dreamcast', '-p', 'vita', '--from', from(), '--tag', VERSION, '-o', a], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    // The total download size is announced before any blob moves.
    const events = r1.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; totalBytes?: number; downloadBytes?: number });
    const plan = events.findIndex((e) => e.event === 'plan');
    expect(plan).toBeGreaterThanOrEqual(0);
    expect(events[plan]!.downloadBytes).toBeGreaterThan(0);
    // Only the master manifest (which lists what to fetch) moves before the plan.
    const master = readLayout(DEMO).manifest(`flight/shared-types/manifest:${VERSION}`);
    const masterBlobs = [master.config, ...master.layers].map((d) => d.digest);
    const progress = (e: { event: string }) => e.event === 'progress' && (e as { phase?: string }).phase === 'start';
    for (const e of events.slice(0, plan).filter(progress)) expect(masterBlobs).toContain((e as { digest?: string }).digest);
    expect(events.slice(plan).filter(progress).length).toBeGreaterThan(0);
    const r2 = await runCli(['kit', 'build', '-p', 'vita', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '-o', b], {
      env: { FLIGHTDECK_HOME: tempHome(), SOURCE_DATE_EPOCH: '' },
    });
    expect(r2.code, r2.stderr).toBe(0);
    expect(sha256File(b)).toBe(sha256File(a));
    expect(JSON.parse(r1.stdout).kitDigest).toBe(`sha256:${sha256File(a)}`);

    // Sorted entries, owner 0/0, one fixed time (the master manifest's created date).
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', a], { encoding: 'utf8' }).trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).pop()!);
    expect(names).toEqual([...names].sort());
    expect(names.slice(-3)).toEqual(['index.json', 'kit-lock.json', 'oci-layout']);
    for (const l of listing) expect(l).toMatch(/ 0\/0 .* 2026-11-01 00:00:00 /);

    lock = JSON.parse(execFileSync('tar', ['-xOf', a, 'kit-lock.json'], { encoding: 'utf8' })) as typeof lock;
    expect(lock).toMatchObject({ schema: 'flightdeck.kit-lock/v1', created: '2026-11-01T00:00:00.000Z', platforms: ['dreamcast', 'vita'], include: ['wit'] });
    expect(lock.source).toMatchObject({
      registry: registry.host,
      namespace: 'flight/shared-types',
      master: { ref: `flight/shared-types/manifest:${VERSION}`, digest: demoDigest('manifest') },
    });
    // Every artifact for the two platforms, pinned to the digest the registry serves; no bindings by default.
    const refs = lock.artifacts.map((x) => x.ref);
    expect(refs).toContain(`flight/shared-types/bundles/dreamcast:${VERSION}`);
    expect(refs).toContain(`flight/shared-types/interfaces/wit:${VERSION}`);
    expect(refs.some((x) => x.includes('bindings'))).toBe(false);
    for (const x of lock.artifacts) expect(x.digest).toBe(demoDigest(x.ref.replace('flight/shared-types/', '').replace(`:${VERSION}`, '')));
    // The cosign signature travels with the kit; the one over another digest is carried but verifies nothing.
    expect(lock.artifacts.find((x) => x.ref.includes('bundles/dreamcast'))!.signatures.map((x) => x.ref)).toEqual([
      `flight/shared-types/bundles/dreamcast:sha256-${demoDigest('bundles/dreamcast').slice(7)}.sig`,
    ]);
    expect(lock.checks.map((c) => [c.platform, c.fits])).toEqual([
      ['dreamcast', true],
      ['vita', true],
    ]);
  });

  it('an interrupted build keeps its partial download and the next run continues it with a Range request', async () => {
    const layer = readLayout(DEMO).manifest(`flight/shared-types/bundles/vita:${VERSION}`).layers[0]!;
    const proxy = await startFaultProxy(registry.url);
    // Slow by construction: the layer stalls after 512 of its bytes until the build hangs up; it cannot
    // finish before the cancel, whatever the machine's speed.
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}$`), fault: { kind: 'stall', after: 512 }, times: 1 });
    const home = tempHome();
    const out = path.join(work, 'resumed.tar');
    const args = ['kit', 'build', '-p', 'vita', '--from', `${proxy.host}/flight/shared-types`, '--tag', VERSION, '-o', out];
    try {
      const child = spawn(process.execPath, [BIN, ...args, '--json'], { env: { ...process.env, FLIGHTDECK_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const partial = path.join(home, 'data', 'store', 'ingest', `${layer.digest.slice(7)}.partial`);
      // Cancel once the build's own progress says bytes of the stalled layer arrived (they are still in
      // the writer's batch; the cancel flushes them to the partial).
      let seen = 0;
      await waitForEvent(
        child.stderr,
        (e) => {
          if (e.event !== 'progress' || e.digest !== layer.digest || e.phase !== 'bytes' || (e.done ?? 0) <= 0) return false;
          seen = e.done ?? 0;
          return true;
        },
        exited,
        (code) => `the build exited (${String(code)}) before the stalled layer arrived`,
      );
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(existsSync(out)).toBe(false);
      const kept = statSync(partial).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeGreaterThanOrEqual(seen);
      expect(kept).toBeLessThan(layer.size);
      const again = await runCli(args, { env: { FLIGHTDECK_HOME: home } });
      expect(again.code, again.stderr).toBe(0);
      const resumed = proxy.log.filter((l) => l.path.endsWith(`/blobs/${layer.digest}`) && l.method === 'GET');
      expect(resumed.at(-1)!.range).toBe(`bytes=${kept}-`);
    } finally {
      await proxy.stop();
    }
  });

  it('refuses a master manifest whose names are not repositories or tags (they would go into URLs)', async () => {
    const doc = path.join(work, 'hostile-master.json');
    writeFileSync(doc, JSON.stringify({ artifacts: [{ repository: '../../v2/_catalog', tag: 'x', category: 'bundles', platforms: ['vita'] }] }));
    const push = await runCli(['push', `${registry.host}/flight/shared-types/manifest:hostile`, `${doc}:application/json`], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(push.code, push.stderr).toBe(0);
    const r = await runCli(['kit', 'build', '-p', 'vita', '--from', from(), '--tag', 'hostile', '-o', path.join(work, 'hostile.tar')], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error\[MANIFEST_INVALID\].*artifacts\.0\.repository: not a repository name/);
    expect(existsSync(path.join(work, 'hostile.tar'))).toBe(false);
  });

  it('refuses to write over an existing kit, and an unknown platform, with codes', async () => {
    writeFileSync(path.join(work, 'exists.tar'), 'x');
    const r = await runCli(['kit', 'build', '-p', 'vita', '--from', from(), '--tag', VERSION, '-o', path.join(work, 'exists.tar')], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error\[INVALID_INPUT\].*already exists/);
    const p = await runCli(['kit', 'build', '-p', 'gamecube', '--from', from(), '--tag', VERSION, '-o', path.join(work, 'gc.tar')], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(p.stderr).toMatch(/error\[PLATFORM_UNKNOWN\]/);
    expect(existsSync(path.join(work, 'gc.tar'))).toBe(false);
  });
});

describe('kit build from a damaged content store', () => {
  /** Flip one byte of a stored blob (same size, wrong digest). */
  const flip = (home: string, digest: string) => {
    const file = path.join(home, 'data', 'store', 'blobs', 'sha256', digest.slice(7));
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x40;
    writeFileSync(file, bytes);
  };
  const stray = (dir: string, name: string) => readdirSync(dir).filter((f) => f.includes(name));

  it('refuses a corrupt stored blob (BLOB_CORRUPT) and leaves no kit, whether the checks or the copy read it; the next build fetches it again', async () => {
    const home = tempHome();
    const env = { FLIGHTDECK_HOME: home };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-kit-corrupt-'));
    expect(
      (await runCli(['kit', 'build', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '--include', 'wit', '-o', path.join(dir, 'first.tar')], { env }))
        .code,
    ).toBe(0);
    const bundle = readLayout(DEMO).manifest(`flight/shared-types/bundles/dreamcast:${VERSION}`);
    // The bundle layer: the platform checks read it first.
    flip(home, bundle.layers[0]!.digest);
    const r1 = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '--include', 'wit', '-o', path.join(dir, 'second.tar')], {
      env,
    });
    expect(r1.code, r1.stderr).toBe(6);
    expect(r1.stderr).toContain('error[BLOB_CORRUPT]');
    expect(stray(dir, 'second')).toEqual([]);
    expect(existsSync(path.join(home, 'data', 'store', 'quarantine', `sha256-${bundle.layers[0]!.digest.slice(7)}`))).toBe(true);
    // The WIT layer: no check reads it, only the copy into the kit (a folder kit this time).
    const wit = readLayout(DEMO).manifest(`flight/shared-types/interfaces/wit:${VERSION}`).layers[0]!.digest;
    flip(home, wit);
    const r2 = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '--include', 'wit', '-o', path.join(dir, 'third')], {
      env,
    });
    expect(r2.code, r2.stderr).toBe(6);
    expect(r2.stderr).toContain('error[BLOB_CORRUPT]');
    expect(stray(dir, 'third')).toEqual([]);
    // Both were set aside, so the next build downloads them again and its kit equals the first one.
    const ok = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '--include', 'wit', '-o', path.join(dir, 'fourth.tar')], {
      env,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(sha256File(path.join(dir, 'fourth.tar'))).toBe(sha256File(path.join(dir, 'first.tar')));
  });
});

describe('kit verify and import', () => {
  it('verifies a good kit (exit 0) and skopeo reads a directory kit as an OCI layout', async () => {
    const home = tempHome();
    const dir = path.join(work, 'dirkit');
    const b = await runCli(['kit', 'build', '-p', 'vita', '--from', from(), '--tag', VERSION, '--include', 'bindings,wit', '-o', dir], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(b.code, b.stderr).toBe(0);
    const v = await runCli(['--json', 'kit', 'verify', dir], { env: { FLIGHTDECK_HOME: home } });
    expect(v.code, v.stdout).toBe(0);
    const report = JSON.parse(v.stdout) as { ok: boolean; lock: boolean; blobs: { checked: number }; checks: Array<{ platform: string }> };
    expect(report).toMatchObject({ ok: true, lock: true });
    expect(report.blobs.checked).toBe(readdirSync(path.join(dir, 'blobs', 'sha256')).length);
    expect(report.checks.map((c) => c.platform)).toEqual(['vita']);
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:flight/shared-types/bindings/typescript:${VERSION}`]);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(demoDigest('bindings/typescript'));
  });

  const damaged: Array<[string, (dir: string) => void, RegExp]> = [
    ['a missing blob', (dir) => rmSync(path.join(dir, 'blobs', 'sha256', demoDigest('bundles/vita').slice(7))), /not in the kit/],
    [
      'a tampered blob',
      (dir) => {
        const m = readLayout(dir).manifest(`flight/shared-types/bundles/vita:${VERSION}`);
        const f = path.join(dir, 'blobs', 'sha256', m.layers[0]!.digest.slice(7));
        const bytes = readFileSync(f);
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
        writeFileSync(f, bytes);
      },
      /tampered/,
    ],
    [
      'an index entry pointing nowhere',
      (dir) => {
        const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
        index.manifests.push({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${'ab'.repeat(32)}`,
          size: 10,
          annotations: { 'org.opencontainers.image.ref.name': 'x/y:z' },
        });
        writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
      },
      /not in the kit/,
    ],
    [
      'a lock file that disagrees',
      (dir) => {
        const text = readFileSync(path.join(dir, 'kit-lock.json'), 'utf8');
        writeFileSync(path.join(dir, 'kit-lock.json'), text.replace(demoDigest('wasm/complete'), `sha256:${'cd'.repeat(32)}`));
      },
      /the lock pins/,
    ],
  ];
  for (const [what, damage, message] of damaged) {
    it(`refuses a kit with ${what}: verify exit 6 KIT problems, import leaves the store untouched`, async () => {
      const home = tempHome();
      const dir = path.join(work, `bad-${what.replace(/\W+/g, '-')}`);
      expect((await runCli(['kit', 'build', '-p', 'vita', '--from', from(), '--tag', VERSION, '-o', dir], { env: { FLIGHTDECK_HOME: tempHome() } })).code).toBe(
        0,
      );
      damage(dir);
      const v = await runCli(['--json', 'kit', 'verify', dir], { env: { FLIGHTDECK_HOME: home } });
      expect(v.code).toBe(6);
      const report = JSON.parse(v.stdout) as { ok: boolean; problems: Array<{ message: string }> };
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.message).join('\n')).toMatch(message);
      // An earlier, unrelated import is in the store; the refused import adds nothing to it.
      expect((await runCli(['kit', 'import', path.join(work, 'a.tar')], { env: { FLIGHTDECK_HOME: home } })).code).toBe(0);
      const before = storeState(home);
      const i = await runCli(['kit', 'import', dir], { env: { FLIGHTDECK_HOME: home } });
      expect(i.code).toBe(6);
      expect(i.stderr).toMatch(/error\[KIT_INVALID\].*Nothing was imported/);
      expect(storeState(home)).toBe(before);
      // kit push verifies first: nothing reaches the registry (port 9 would refuse the connection anyway).
      const p = await runCli(['kit', 'push', dir, '127.0.0.1:9'], { env: { FLIGHTDECK_HOME: home } });
      expect(p.code).toBe(6);
      expect(p.stderr).toMatch(/error\[KIT_INVALID\].*Nothing was pushed/);
    });
  }

  const hostile: Array<[string, () => Buffer]> = [
    [
      'a `..` entry',
      () =>
        tar([
          { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
          { name: '../evil', body: 'x' },
        ]),
    ],
    [
      'a symlink entry',
      () =>
        tar([
          { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
          { name: 'index.json', type: '2', linkname: '/etc/passwd' },
        ]),
    ],
    [
      'an unexpected file',
      () =>
        tar([
          { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
          { name: 'run.sh', body: 'rm -rf /' },
        ]),
    ],
    [
      'a truncated archive',
      () => {
        const full = readFileSync(path.join(work, 'a.tar'));
        return full.subarray(0, Math.floor(full.length / 2) + 100);
      },
    ],
  ];
  for (const [what, make] of hostile) {
    it(`refuses a tar with ${what} (KIT_INVALID), nothing imported, no staging left`, async () => {
      const home = tempHome();
      const file = path.join(work, `hostile-${what.replace(/\W+/g, '-')}.tar`);
      writeFileSync(file, make());
      const i = await runCli(['--json', 'kit', 'import', file], { env: { FLIGHTDECK_HOME: home } });
      expect(i.code).toBe(6);
      expect((JSON.parse(i.stdout) as { error: { code: string; message: string } }).error.code).toBe('KIT_INVALID');
      expect(existsSync(path.join(work, 'evil'))).toBe(false);
      const store = path.join(home, 'data', 'store');
      expect(
        existsSync(path.join(store, 'index.json'))
          ? (JSON.parse(readFileSync(path.join(store, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests
          : [],
      ).toEqual([]);
      expect(existsSync(path.join(store, 'ingest')) ? readdirSync(path.join(store, 'ingest')) : []).toEqual([]);
    });
  }
});

describe('kit import then --offline', () => {
  it('pull and check read only the store: a preload that fails every socket proves no network call', async () => {
    const home = tempHome();
    const marker = path.join(work, 'socket-opened');
    const preload = path.join(work, 'no-network.cjs');
    writeFileSync(
      preload,
      `const net = require('node:net'); const fs = require('node:fs');
       const deny = (what) => function () { fs.writeFileSync(${JSON.stringify(marker)}, what); throw new Error('network disabled by test: ' + what); };
       net.Socket.prototype.connect = deny('net.Socket.connect');
       net.connect = net.createConnection = deny('net.connect');
       require('node:dns').lookup = deny('dns.lookup');`,
    );
    const env = { FLIGHTDECK_HOME: home, NODE_OPTIONS: `--require ${preload}` };
    const imp = await runCli(['--json', 'kit', 'import', path.join(work, 'a.tar')], { env });
    expect(imp.code, imp.stdout + imp.stderr).toBe(0);
    const imported = JSON.parse(imp.stdout) as { refs: string[]; blobsAdded: number; bytesAdded: number };
    expect(imported.refs).toContain(`${registry.host}/flight/shared-types/bundles/dreamcast:${VERSION}`);
    expect(imported.blobsAdded).toBeGreaterThan(0);
    // The same kit again: verified, and not a single blob byte moves.
    const again = JSON.parse((await runCli(['--json', 'kit', 'import', path.join(work, 'a.tar')], { env })).stdout) as {
      blobsAdded: number;
      bytesAdded: number;
    };
    expect(again).toMatchObject({ blobsAdded: 0, bytesAdded: 0 });

    const ref = `${registry.host}/flight/shared-types/bundles/dreamcast:${VERSION}`;
    const out = path.join(work, 'offline-out');
    const pulled = await runCli(['pull', ref, '--offline', '-o', out], { env });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readdirSync(out).length).toBeGreaterThan(0);
    const check = await runCli(['check', ref, '--offline', '-p', 'dreamcast'], { env });
    expect(check.code, check.stderr).toBe(0);
    // A ref the kit does not hold is OFFLINE_MISS, not a network attempt.
    const miss = await runCli(['pull', `${registry.host}/flight/shared-types/bundles/v6r-large:${VERSION}`, '--offline'], { env });
    expect(miss.code).toBe(3);
    expect(miss.stderr).toMatch(/error\[OFFLINE_MISS\]/);
    expect(existsSync(marker)).toBe(false);
    // Control: without --offline the same command does try the network, and the preload catches it.
    const online = await runCli(['pull', ref], { env });
    expect(online.code).not.toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('signature policy', () => {
  it('kit build accepts content signed by the required key and records who signed it', async () => {
    const policy = writePolicy(work, [{ repository: 'flight/shared-types/bundles/dreamcast', keys: ['release'] }]);
    const r = await runCli(
      ['--json', 'kit', 'build', '-p', 'dreamcast', '--from', from(), '--tag', VERSION, '--policy', policy, '-o', path.join(work, 'signed.tar')],
      { env: { FLIGHTDECK_HOME: tempHome() } },
    );
    expect(r.code, r.stdout).toBe(0);
    const built = JSON.parse(r.stdout) as { lock: typeof lock };
    expect(built.lock.artifacts.find((a) => a.ref.includes('bundles/dreamcast'))!.verifiedBy).toEqual(['release']);
    const v = await runCli(['--json', 'kit', 'verify', path.join(work, 'signed.tar'), '--policy', policy], { env: { FLIGHTDECK_HOME: tempHome() } });
    expect(v.code, v.stdout).toBe(0);
    expect(
      (JSON.parse(v.stdout) as { signatures: Array<{ ref: string; status: string }> }).signatures.find((s) => s.ref.includes('bundles/dreamcast'))!.status,
    ).toBe('verified');
  });

  const refused: Array<[string, Array<{ repository: string; keys: string[]; registry?: string }>, string[], string]> = [
    ['an unsigned repository the policy covers', [{ repository: 'flight/shared-types/bundles/*', keys: ['release'] }], ['-p', 'vita'], 'SIGNATURE_REQUIRED'],
    ['a signature by another key', [{ repository: 'flight/shared-types/bundles/dreamcast', keys: ['other'] }], ['-p', 'dreamcast'], 'SIGNATURE_INVALID'],
    ['a signature over another digest', [{ repository: 'flight/shared-types/wasm/complete', keys: ['release'] }], ['-p', 'dreamcast'], 'SIGNATURE_INVALID'],
  ];
  for (const [what, rules, platforms, code] of refused) {
    it(`kit build refuses ${what}: ${code}, exit 6, no kit written`, async () => {
      const out = path.join(work, `refused-${code}-${Math.random().toString(16).slice(2)}.tar`);
      const r = await runCli(['kit', 'build', ...platforms, '--from', from(), '--tag', VERSION, '--policy', writePolicy(work, rules), '-o', out], {
        env: { FLIGHTDECK_HOME: tempHome() },
      });
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(new RegExp(`error\\[${code}\\]`));
      expect(existsSync(out)).toBe(false);
    });
  }

  it('signatures attached as OCI referrers count: the referrers tag schema, and the referrers API where the registry has it', async () => {
    const rules = [
      { repository: 'flight/shared-types/wasm/session-threads', keys: ['release'] },
      { repository: 'flight/shared-types/wasm/simd-checksum', keys: ['release'] },
    ];
    const policy = writePolicy(work, rules);
    // docker-registry has no referrers API: simd-checksum's signature is only reachable through it.
    const direct = await runCli(['kit', 'build', '-p', 'vita', '--from', from(), '--tag', VERSION, '--policy', policy, '-o', path.join(work, 'no-api.tar')], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(direct.code).toBe(6);
    expect(direct.stderr).toMatch(/error\[SIGNATURE_REQUIRED\].*simd-checksum/);
    // The same registry behind a proxy that serves the referrers API for simd-checksum.
    const proxy = await startFaultProxy(registry.url);
    proxy.rules.push({
      method: 'GET',
      path: new RegExp(`^/v2/flight/shared-types/wasm/simd-checksum/referrers/${demoDigest('wasm/simd-checksum')}`),
      fault: { kind: 'status', status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: apiReferrers.toString('utf8') },
    });
    try {
      const out = path.join(work, 'referrers.tar');
      const r = await runCli(
        ['--json', 'kit', 'build', '-p', 'vita', '--from', `${proxy.host}/flight/shared-types`, '--tag', VERSION, '--policy', policy, '-o', out],
        { env: { FLIGHTDECK_HOME: tempHome() } },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const built = JSON.parse(r.stdout) as { lock: typeof lock };
      for (const name of ['session-threads', 'simd-checksum']) {
        const a = built.lock.artifacts.find((x) => x.ref.includes(`wasm/${name}`))!;
        expect(a.verifiedBy).toEqual(['release']);
        expect(a.signatures.map((x) => x.ref)).toEqual([`flight/shared-types/wasm/${name}:sha256-${demoDigest(`wasm/${name}`).slice(7)}`]);
      }
      const v = await runCli(['--json', 'kit', 'verify', out, '--policy', policy], { env: { FLIGHTDECK_HOME: tempHome() } });
      expect(v.code, v.stdout).toBe(0);
      const statuses = (JSON.parse(v.stdout) as { signatures: Array<{ ref: string; status: string }> }).signatures.filter((x) =>
        /session-threads|simd-checksum/.test(x.ref),
      );
      expect(statuses.map((x) => x.status)).toEqual(['verified', 'verified']);
    } finally {
      await proxy.stop();
    }
  });

  it('kit verify and import apply the policy to a kit built without one', async () => {
    const policy = writePolicy(work, [{ repository: 'flight/shared-types/bundles/vita', keys: ['release'], registry: registry.host }]);
    const v = await runCli(['--json', 'kit', 'verify', path.join(work, 'a.tar'), '--policy', policy], { env: { FLIGHTDECK_HOME: tempHome() } });
    expect(v.code).toBe(6);
    expect((JSON.parse(v.stdout) as { problems: Array<{ code: string }> }).problems.map((p) => p.code)).toEqual(['SIGNATURE_REQUIRED']);
    const home = tempHome();
    const i = await runCli(['kit', 'import', path.join(work, 'a.tar'), '--policy', policy], { env: { FLIGHTDECK_HOME: home } });
    expect(i.code).toBe(6);
    expect(i.stderr).toMatch(/error\[SIGNATURE_REQUIRED\]/);
    expect(storeState(home)).toBe(storeState(tempHome()));
  });
});

describe('interop with skopeo and a lab registry', () => {
  it('kit push mirrors a kit; skopeo copies from a kit dir; a layout written by skopeo imports', async () => {
    const lab = await startRegistry();
    try {
      const p = await runCli(['--json', 'kit', 'push', path.join(work, 'a.tar'), lab.host], { env: { FLIGHTDECK_HOME: tempHome() } });
      expect(p.code, p.stdout + p.stderr).toBe(0);
      expect((JSON.parse(p.stdout) as { refs: string[] }).refs).toContain(
        `${lab.host}/flight/shared-types/bundles/dreamcast:sha256-${demoDigest('bundles/dreamcast').slice(7)}.sig`,
      );
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${lab.host}/flight/shared-types/bundles/vita:${VERSION}`]);
      expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(demoDigest('bundles/vita'));

      await run('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${path.join(work, 'dirkit')}:flight/shared-types/wasm/complete:${VERSION}`,
        `docker://${lab.host}/copied/complete:1`,
      ]);
      const copied = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${lab.host}/copied/complete:1`]);
      expect(`sha256:${createHash('sha256').update(copied).digest('hex')}`).toBe(demoDigest('wasm/complete'));

      const sdir = path.join(work, 'skopeo-layout');
      await run('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        `docker://${lab.host}/flight/shared-types/bundles/vita:${VERSION}`,
        `oci:${sdir}:flight/shared-types/bundles/vita:${VERSION}`,
      ]);
      const home = tempHome();
      const i = await runCli(['--json', 'kit', 'import', sdir], { env: { FLIGHTDECK_HOME: home } });
      expect(i.code, i.stdout).toBe(0);
      expect((JSON.parse(i.stdout) as { refs: string[] }).refs).toEqual([`flight/shared-types/bundles/vita:${VERSION}`]);
      const c = await runCli(['check', `${lab.host}/flight/shared-types/bundles/vita:${VERSION}`, '--offline', '-p', 'vita'], {
        env: { FLIGHTDECK_HOME: home },
      });
      expect(c.code, c.stderr).toBe(0);
    } finally {
      await lab.stop();
    }
  });
});
