/**
 * Several Flight Deck processes sharing one content store (CLI, web host, app worker, a fleet deploy):
 * real `flightdeck` processes against a real registry behind the fault proxy, repeated. A barrier holds
 * every process's manifest request until all have asked, and blob bodies are slowed, so the downloads
 * overlap by construction rather than by luck.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../core/oci/client.js';
import { pushFiles } from '../../../core/oci/push.js';
import { BIN, ROOT, runCli, tempHome, waitForEvent, type CliResult } from '../../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { randomFile, tempDir } from '../../support/oci.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

let registry: TestRegistry;
let proxy: FaultProxy;
const dir = tempDir();
const big = randomFile(dir, 'big.wasm', 4 * 1024 * 1024);
const mid = randomFile(dir, 'mid.wasm', 1024 * 1024);
const small = randomFile(dir, 'small.wasm', 64 * 1024);
const REPOS = { a: 'flight/conc/a', b: 'flight/conc/b', c: 'flight/conc/c' } as const;
const MANIFEST_BY_TAG = /\/manifests\/1$/;
const BLOBS = /\/blobs\/sha256:/;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  const c = new RegistryClient(registry.host);
  // Three artifacts that share layers pairwise and all share the OCI empty config.
  await pushFiles(c, REPOS.a, '1', [{ path: big.path }, { path: mid.path }]);
  await pushFiles(c, REPOS.b, '1', [{ path: big.path }, { path: small.path }]);
  await pushFiles(c, REPOS.c, '1', [{ path: mid.path }, { path: small.path }]);
  c.close();
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(() => {
  proxy.rules.length = 0;
});

const ref = (repo: string) => `${proxy.host}/${repo}:1`;
const storeDir = (home: string) => path.join(home, 'data', 'store');

/** Every file under blobs/ hashes to its name; nothing is left in ingest/ but what `allow` lets through. */
function expectVerifiedStore(home: string): string[] {
  const blobs = path.join(storeDir(home), 'blobs', 'sha256');
  const names = readdirSync(blobs);
  for (const hex of names) {
    expect(
      createHash('sha256')
        .update(readFileSync(path.join(blobs, hex)))
        .digest('hex'),
      `blobs/sha256/${hex}`,
    ).toBe(hex);
  }
  const ingest = path.join(storeDir(home), 'ingest');
  expect(existsSync(ingest) ? readdirSync(ingest) : []).toEqual([]);
  return names;
}

function tags(home: string): string[] {
  const index = JSON.parse(readFileSync(path.join(storeDir(home), 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '').sort();
}

function expectAllOk(results: CliResult[]): void {
  for (const r of results) expect(r.code, r.stderr).toBe(0);
}

const ROUNDS = 6;
// A hang guard, not a speed limit: three concurrent 40 MiB pulls with fsyncs took over 30 s once on a
// 2-core machine running the whole suite. A real hang still fails, with the pulls' --verbose log.
const HANG_MS = 90_000;

describe('processes sharing one content store', () => {
  it(`${ROUNDS} rounds of 3 concurrent pulls of the same ref into one home: all succeed, every blob verified`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      proxy.rules.length = 0;
      proxy.rules.push({ method: 'GET', path: MANIFEST_BY_TAG, fault: { kind: 'barrier', count: 3 }, times: 3 });
      proxy.rules.push({ method: 'GET', path: BLOBS, fault: { kind: 'slow', delayMs: 2, chunk: 128 * 1024 } });
      const home = tempHome();
      const results = await Promise.all(
        [0, 1, 2].map(() => runCli(['pull', ref(REPOS.a), '--verbose'], { env: { FLIGHTDECK_HOME: home }, timeoutMs: HANG_MS })),
      );
      expectAllOk(results);
      const names = expectVerifiedStore(home);
      expect(names).toEqual(expect.arrayContaining([big.digest.slice(7), mid.digest.slice(7)]));
      expect(tags(home)).toEqual([ref(REPOS.a)]);
      // Each blob crossed the network once: the other processes waited for its lock and found it stored.
      const bigGets = proxy.log.filter((r) => r.path.endsWith(big.digest) && r.method === 'GET');
      proxy.log.length = 0;
      expect(bigGets.length, `round ${round}`).toBe(1);
    }
  }, 180_000);

  it(`${ROUNDS} rounds of 3 concurrent pulls of different refs sharing blobs and the empty config: no failure, no lost tag`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      proxy.rules.length = 0;
      proxy.rules.push({ method: 'GET', path: MANIFEST_BY_TAG, fault: { kind: 'barrier', count: 3 }, times: 3 });
      proxy.rules.push({ method: 'GET', path: BLOBS, fault: { kind: 'slow', delayMs: 2, chunk: 128 * 1024 } });
      const home = tempHome();
      const results = await Promise.all(
        Object.values(REPOS).map((repo) => runCli(['pull', ref(repo), '--verbose'], { env: { FLIGHTDECK_HOME: home }, timeoutMs: HANG_MS })),
      );
      expectAllOk(results);
      const names = expectVerifiedStore(home);
      expect(names).toEqual(expect.arrayContaining([big.digest.slice(7), mid.digest.slice(7), small.digest.slice(7)]));
      expect(tags(home), `round ${round}`).toEqual(Object.values(REPOS).map(ref).sort());
    }
  }, 180_000);

  it('cache prune while a pull is under way keeps the blobs it stored and its partial (lock held, even when old)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The 4 MiB layer stalls after 1 MiB until the test opens the gate; the others arrive at once.
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${big.digest}`), fault: { kind: 'stall', after: 1024 * 1024, until: gate } });
    const home = tempHome();
    const env = { ...process.env, NO_COLOR: '1', FLIGHTDECK_HOME: home };
    const child = spawn(process.execPath, [BIN, 'pull', ref(REPOS.a), '--json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      // Wait (on the pull's own progress events) until the 1 MiB layer is stored and the big one is under way.
      let midDone = false;
      let bigStarted = false;
      await waitForEvent(
        child.stderr,
        (e) => {
          if (e.event !== 'progress') return false;
          if (e.digest === mid.digest && e.phase === 'done') midDone = true;
          if (e.digest === big.digest && e.phase === 'bytes') bigStarted = true;
          return midDone && bigStarted;
        },
        exited,
        (code) => `the pull exited (${String(code)}) before the stall: ${stdout}`,
      );
      const store = storeDir(home);
      const partial = path.join(store, 'ingest', `${big.digest.slice(7)}.partial`);
      const midBlob = path.join(store, 'blobs', 'sha256', mid.digest.slice(7));
      expect(existsSync(partial)).toBe(true);
      expect(existsSync(midBlob)).toBe(true);
      // Make the partial look abandoned (2 h old): only its live lock protects it now.
      const old = new Date(Date.now() - 2 * 3600_000);
      utimesSync(partial, old, old);
      const prune = await runCli(['cache', 'prune', '--max-size', '0', '--json'], { env: { FLIGHTDECK_HOME: home } });
      expect(prune.code, prune.stderr).toBe(0);
      expect(existsSync(midBlob)).toBe(true);
      expect(existsSync(partial)).toBe(true);
      expect(statSync(path.join(store, 'ingest', `${big.digest.slice(7)}.lock`)).isDirectory()).toBe(true);
    } finally {
      open();
    }
    expect(await exited, stdout).toBe(0);
    const names = expectVerifiedStore(home);
    expect(names).toEqual(expect.arrayContaining([big.digest.slice(7), mid.digest.slice(7)]));
    expect(tags(home)).toEqual([ref(REPOS.a)]);
  }, 60_000);
});

describe('a pull killed mid-download (SIGKILL: no clean-up at all)', () => {
  it('leaves a lock that goes stale; the next pull takes it over and stores every blob verified', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${big.digest}`), fault: { kind: 'stall', after: 256 * 1024, until: gate }, times: 1 });
    const home = tempHome();
    const child = spawn(process.execPath, [BIN, 'pull', ref(REPOS.a), '--json'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FLIGHTDECK_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_code, signal) => r(signal)));
    try {
      // Bytes are flowing (still in the writer's 1 MiB batch: nothing of them reached the disk).
      await waitForEvent(
        child.stderr,
        (e) => e.event === 'progress' && e.digest === big.digest && (e.done ?? 0) > 0,
        exited,
        () => 'the pull exited before it was killed',
      );
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      open();
    }
    const ingest = path.join(storeDir(home), 'ingest');
    expect(statSync(path.join(ingest, `${big.digest.slice(7)}.partial`)).size).toBe(0);
    expect(existsSync(path.join(ingest, `${big.digest.slice(7)}.lock`))).toBe(true);
    proxy.log.length = 0;
    const again = await runCli(['pull', ref(REPOS.a)], { env: { FLIGHTDECK_HOME: home } });
    expect(again.code, again.stderr).toBe(0);
    expect(proxy.log.filter((r) => r.path.endsWith(big.digest)).map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
    expectVerifiedStore(home);
    expect(tags(home)).toEqual([ref(REPOS.a)]);
  }, 60_000);
});

describe('registry outages and the retry budget (config.json `retry`)', () => {
  it('with the default budget a pull rides out 5 failed attempts in a row (past the old ~4 s window)', async () => {
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${small.digest}`), fault: { kind: 'status', status: 503 }, times: 5 });
    const home = tempHome();
    const r = await runCli(['pull', ref(REPOS.c)], { env: { FLIGHTDECK_HOME: home }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('retry 5 of 12');
    expectVerifiedStore(home);
  }, 90_000);

  it('a smaller budget from config.json gives up sooner, keeping the partial for the next pull', async () => {
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ retry: { attempts: 1, maxDelaySeconds: 0.05 } }));
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${mid.digest}`), fault: { kind: 'reset', after: 300_000 }, times: 1 });
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${mid.digest}`), fault: { kind: 'status', status: 503 }, times: 2 });
    const failed = await runCli(['pull', ref(REPOS.c), '--concurrency', '1'], { env: { FLIGHTDECK_HOME: home } });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('retry 1 of 1');
    const partial = path.join(storeDir(home), 'ingest', `${mid.digest.slice(7)}.partial`);
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    proxy.log.length = 0;
    const again = await runCli(['pull', ref(REPOS.c)], { env: { FLIGHTDECK_HOME: home } });
    expect(again.code, again.stderr).toBe(0);
    expect(proxy.log.filter((r) => r.path.endsWith(mid.digest)).map((r) => [r.range, r.status])).toEqual([[`bytes=${kept}-`, 206]]);
    expectVerifiedStore(home);
  }, 60_000);
});
