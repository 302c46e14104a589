import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { makeCert } from '../../support/tls.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { randomFile, tempDir } from '../../support/oci.js';

// These tests run the built CLI (dist/): `npm run build` first.
let registry: TestRegistry;
let secure: TestRegistry;
let caFile: string;
const PASSWORD = 'cli-pass-Zq81xw';
const dir = tempDir();
const wasm = randomFile(dir, 'complete.wasm', 200 * 1024);
const bundleDir = path.join(dir, 'bundle');

beforeAll(async () => {
  const htpasswd = execFileSync('htpasswd', ['-Bbn', 'ci', PASSWORD], { encoding: 'utf8' });
  const pair = makeCert(tempDir(), 'cli-registry');
  caFile = pair.cert;
  [registry, secure] = await Promise.all([startRegistry(), startRegistry({ htpasswd, tls: { cert: pair.cert, key: pair.key } })]);
  execFileSync('mkdir', ['-p', path.join(bundleDir, 'wit')]);
  writeFileSync(path.join(bundleDir, 'wit', 'memory.wit'), 'package flight:memory;\n');
  writeFileSync(path.join(bundleDir, 'platform.json'), '{"platform":"dreamcast"}\n');
  execFileSync('tar', ['-czf', path.join(dir, 'dreamcast.tar.gz'), '-C', bundleDir, '.']);
});
afterAll(async () => {
  await registry?.stop();
  await secure?.stop();
});

describe('flightdeck push / ls / inspect-ref / pull / cache', () => {
  const home = tempHome();
  const env = { FLIGHTDECK_HOME: home };
  const ref = () => `${registry.host}/flight/shared-types/bundles/dreamcast:2025.06.06`;

  it('pushes files with media types and annotations, then lists and inspects them', async () => {
    const push = await runCli(
      [
        'push',
        ref(),
        `${wasm.path}:application/vnd.wasm.content.layer.v1+wasm`,
        path.join(dir, 'dreamcast.tar.gz'),
        '-a',
        'flight.target-platform=dreamcast',
        '--artifact-type',
        'application/vnd.flight.bundle.v1',
        '--json',
      ],
      { env },
    );
    expect(push.code, push.stderr).toBe(0);
    const pushed = JSON.parse(push.stdout) as { digest: string; uploaded: number };
    expect(pushed.uploaded).toBe(3);
    const ls = await runCli(['ls', registry.host], { env });
    expect(ls.stdout.trim().split('\n')).toContain('flight/shared-types/bundles/dreamcast');
    const tags = await runCli(['ls', `${registry.host}/flight/shared-types/bundles/dreamcast`, '--json'], { env });
    expect(JSON.parse(tags.stdout)).toMatchObject({ kind: 'tags', items: ['2025.06.06'] });
    const inspect = await runCli(['inspect-ref', ref()], { env });
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain(pushed.digest);
    expect(inspect.stdout).toContain('flight.target-platform = dreamcast');
    expect(inspect.stdout).toContain('application/vnd.flight.bundle.v1');
    expect(inspect.stdout).toMatch(/complete\.wasm/);
  });

  it('pulls with per-blob JSON progress, writes titled files, unpacks tar+gzip only on request', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await runCli(['pull', ref(), '--output', out, '--json', '--concurrency', '2'], { env });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { blobsDownloaded: number; files: Array<{ path: string }> };
    expect(result.blobsDownloaded).toBe(3);
    expect(readdirSync(out).sort()).toEqual(['complete.wasm', 'dreamcast.tar.gz']);
    expect(readFileSync(path.join(out, 'complete.wasm')).equals(wasm.bytes)).toBe(true);
    // The folder is on the store's file system (ext4 here: no clone): each file is a read-only hard link
    // to the store's verified copy, not a second write of its bytes.
    const stored = statSync(path.join(JSON.parse(r.stdout).store as string, 'blobs', 'sha256', wasm.digest.slice(7)));
    const linked = statSync(path.join(out, 'complete.wasm'));
    expect(result.files.map((f) => (f as { method?: string }).method)).toEqual(['hardlink', 'hardlink']);
    expect([linked.ino, linked.nlink, linked.mode & 0o777]).toEqual([stored.ino, 2, 0o444]);
    // --link-mode copy: an independent, writable file (the blobs are in the store now: read verified).
    const copied = path.join(tempDir(), 'copied');
    const copy = await runCli(['pull', ref(), '--output', copied, '--link-mode', 'copy'], { env });
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout).toContain(`wrote ${path.join(copied, 'complete.wasm')}`);
    const own = statSync(path.join(copied, 'complete.wasm'));
    expect([own.ino === stored.ino, own.nlink, own.mode & 0o777]).toEqual([false, 1, 0o644]);
    expect(readFileSync(path.join(copied, 'complete.wasm')).equals(wasm.bytes)).toBe(true);
    // Pulled again into the same folder: the links stay, no temp file is left beside them.
    const relink = await runCli(['pull', ref(), '--output', out], { env });
    expect(relink.code, relink.stderr).toBe(0);
    expect(relink.stdout).toContain(`linked ${path.join(out, 'complete.wasm')}`);
    expect(readdirSync(out).sort()).toEqual(['complete.wasm', 'dreamcast.tar.gz']);
    expect(statSync(path.join(out, 'complete.wasm')).ino).toBe(stored.ino);
    const bad = await runCli(['pull', ref(), '--output', copied, '--link-mode', 'hard'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('auto, copy');
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = events.filter((e) => e.event === 'progress' && e.phase === 'done');
    expect(done.length).toBe(3);
    expect(done.find((e) => e.title === 'complete.wasm')).toMatchObject({ done: wasm.bytes.length, total: wasm.bytes.length, rate: expect.any(Number) });
    const unpacked = path.join(tempDir(), 'unpacked');
    const again = await runCli(['pull', ref(), '-o', unpacked, '--unpack'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 blob(s) downloaded');
    expect(readFileSync(path.join(unpacked, 'dreamcast', 'wit', 'memory.wit'), 'utf8')).toBe('package flight:memory;\n');
    expect(existsSync(path.join(unpacked, 'dreamcast.tar.gz'))).toBe(false);
  });

  it('cache ls / verify finds a corrupted blob / prune frees it', async () => {
    const ls = await runCli(['cache', 'ls', '--json'], { env });
    const list = JSON.parse(ls.stdout) as { entries: Array<{ reference: string }>; root: string };
    expect(list.entries.map((e) => e.reference)).toEqual([ref()]);
    const ok = await runCli(['cache', 'verify'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('0 corrupt');
    writeFileSync(path.join(list.root, 'blobs', 'sha256', wasm.digest.slice(7)), 'tampered');
    const bad = await runCli(['cache', 'verify', '--json'], { env });
    expect(bad.code).toBe(6);
    expect(JSON.parse(bad.stdout)).toMatchObject({ corrupt: [{ digest: wasm.digest, removed: false }] });
    // No grace period here: the blobs were stored a moment ago and nothing else uses this store.
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ prune: { graceSeconds: 0 } }));
    const prune = await runCli(['cache', 'prune', '--max-size', '0', '--json'], { env });
    expect(prune.code, prune.stderr).toBe(0);
    expect(JSON.parse(prune.stdout)).toMatchObject({ untagged: [ref()], remainingBytes: 0 });
    expect(readdirSync(path.join(list.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('ls --master reads the master manifest and lists the artifacts it names', async () => {
    const master = path.join(tempDir(), 'flight-shared-types.json');
    writeFileSync(
      master,
      JSON.stringify({
        version: '2025.06.06',
        description: 'Flight shared types: wasm, bundles, bindings',
        artifacts: [
          { category: 'wasm', reference: 'flight/shared-types/wasm/complete:2025.06.06' },
          { category: 'bundles', url: `${registry.host}/flight/shared-types/bundles/dreamcast:2025.06.06` },
        ],
      }),
    );
    const push = await runCli(
      ['push', `${registry.host}/flight/shared-types/manifest:latest`, `${master}:application/json`, '-a', 'flight.category=shared-types'],
      { env },
    );
    expect(push.code, push.stderr).toBe(0);
    const r = await runCli(['ls', registry.host, '--master', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { artifacts: string[]; annotations: Record<string, string>; documents: Array<{ title: string }> };
    expect(m.artifacts).toEqual([
      `${registry.host}/flight/shared-types/bundles/dreamcast:2025.06.06`,
      `${registry.host}/flight/shared-types/wasm/complete:2025.06.06`,
    ]);
    expect(m.annotations['flight.category']).toBe('shared-types');
    expect(m.documents.map((d) => d.title)).toEqual(['flight-shared-types.json']);
    const human = await runCli(['ls', registry.host, '--master'], { env });
    expect(human.stdout).toContain('artifacts (2):');
  });

  it('ls of a namespace lists the repositories under it; a hidden catalog gives a note, not an error', async () => {
    const ns = await runCli(['ls', `${registry.host}/flight/shared-types`], { env });
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout.trim().split('\n')).toEqual(expect.arrayContaining(['flight/shared-types/bundles/dreamcast', 'flight/shared-types/manifest']));
    const proxy = await startFaultProxy(registry.url);
    try {
      proxy.rules.push({
        path: /^\/v2\/_catalog/,
        fault: { kind: 'status', status: 404, body: '{"errors":[{"code":"UNSUPPORTED","message":"catalog disabled"}]}' },
      });
      const hidden = await runCli(['ls', proxy.host, '--json'], { env });
      expect(hidden.code, hidden.stderr).toBe(0);
      expect(JSON.parse(hidden.stdout)).toMatchObject({ kind: 'repositories', items: [], note: expect.stringContaining('does not expose its catalog') });
    } finally {
      await proxy.stop();
    }
  });

  it('a registry that fails and recovers: pull says so on stderr (a warning per retry, a retry event under --json) and succeeds', async () => {
    const proxy = await startFaultProxy(registry.url);
    try {
      proxy.rules.push({ method: 'GET', path: /\/manifests\//, fault: { kind: 'status', status: 503 }, times: 1 });
      const text = await runCli(['pull', `${proxy.host}/flight/shared-types/bundles/dreamcast:2025.06.06`], { env: { ...env, FLIGHTDECK_HOME: tempHome() } });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stderr).toMatch(
        /warning: HTTP 503 on GET \/v2\/flight\/shared-types\/bundles\/dreamcast\/manifests\/2025\.06\.06: retry 1 of 12 in \d+\.\d s/,
      );
      proxy.rules.push({ method: 'GET', path: /\/manifests\//, fault: { kind: 'status', status: 503 }, times: 1 });
      const json = await runCli(['pull', `${proxy.host}/flight/shared-types/bundles/dreamcast:2025.06.06`, '--json'], {
        env: { ...env, FLIGHTDECK_HOME: tempHome() },
      });
      expect(json.code, json.stderr).toBe(0);
      const events = json.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events).toContainEqual(expect.objectContaining({ event: 'retry', task: 'pull', reason: 'HTTP 503', attempt: 1, of: 12 }));
    } finally {
      await proxy.stop();
    }
  });

  it('rejects a bad reference before any network use, with a stable code', async () => {
    const r = await runCli(['pull', `${registry.host}/Flight/UPPER:tag`], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error[REFERENCE_INVALID]');
    expect(r.stderr).toContain('hint:');
  });
});

describe('flightdeck against a TLS registry with htpasswd', () => {
  const env = { FLIGHTDECK_HOME: tempHome(), NODE_EXTRA_CA_CERTS: '' };
  const ref = () => `${secure.host}/flight/shared-types/wasm/complete:1`;

  it('authenticates with --username/--password-stdin over TLS (NODE_EXTRA_CA_CERTS) and never prints the password', async () => {
    const tlsEnv = { ...env, NODE_EXTRA_CA_CERTS: caFile };
    const push = await runCli(['push', ref(), wasm.path, '--no-plain-http', '-u', 'ci', '--password-stdin', '--verbose'], {
      env: tlsEnv,
      input: `${PASSWORD}\n`,
    });
    expect(push.code, push.stderr).toBe(0);
    const pull = await runCli(['pull', ref(), '--no-plain-http', '-u', 'ci', '--password-stdin', '--json'], { env: tlsEnv, input: PASSWORD });
    expect(pull.code, pull.stderr).toBe(0);
    const wrong = await runCli(['pull', ref(), '--no-plain-http', '-u', 'ci', '--password-stdin', '--verbose'], { env: tlsEnv, input: 'wrong-secret-9f8e7d' });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('error[REGISTRY_UNAUTHORIZED]');
    for (const r of [push, pull, wrong]) {
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stdout + r.stderr).not.toContain('wrong-secret-9f8e7d');
      expect(r.stdout + r.stderr).not.toContain(Buffer.from(`ci:${PASSWORD}`).toString('base64'));
    }
  });

  it('without the CA: a TLS error with a hint; --insecure works; a bearer token from the env is not printed', async () => {
    const untrusted = await runCli(['ls', `${secure.host}/flight/shared-types/wasm/complete`, '--no-plain-http'], { env });
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toContain('error[TLS_UNTRUSTED]');
    expect(untrusted.stderr).toMatch(/--ca-file.*--insecure/);
    const insecure = await runCli(['ls', `${secure.host}/flight/shared-types/wasm/complete`, '--no-plain-http', '--insecure', '-u', 'ci', '--password-stdin'], {
      env,
      input: PASSWORD,
    });
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(insecure.stdout.trim()).toBe('1');
    const token = 'env-token-abcdef123456';
    const t = await runCli(['inspect-ref', ref(), '--no-plain-http', '--insecure', '--verbose', '--json'], {
      env: { ...env, FLIGHTDECK_REGISTRY_TOKEN: token },
    });
    expect(t.code).toBe(5);
    expect(t.stdout + t.stderr).not.toContain(token);
  });
});
