import { existsSync, mkdtempSync, rmSync, symlinkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient, type RetryNotice } from '../../../../core/oci/client.js';
import { FlightDeckError, type ErrorCode } from '../../../../core/errors.js';
import { MEDIA } from '../../../../core/oci/manifest.js';
import { pull, registrySource, type PullOptions, type PullResult } from '../../../../core/oci/pull.js';
import { OutputWriter } from '../../../../core/oci/extract.js';
import { pushFiles } from '../../../../core/oci/push.js';
import { parseReference } from '../../../../core/oci/reference.js';
import type { OciLayout } from '../../../../core/oci/layout.js';
import { startRegistry, type TestRegistry } from '../../../support/registry.js';
import { startFaultProxy, startRecordingServer, type FaultProxy } from '../../../support/fault-proxy.js';
import { newStore, randomFile, storeFiles, tempDir } from '../../../support/oci.js';

const REPO = 'flight/shared-types/wasm/memory';
let registry: TestRegistry;
let proxy: FaultProxy;
const dir = tempDir();
const blob = randomFile(dir, 'memory.wasm', 256 * 1024);
let store: OciLayout;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  const c = new RegistryClient(registry.host);
  await pushFiles(c, REPO, '2025.06.06', [{ path: blob.path }]);
  c.close();
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(async () => {
  proxy.rules.length = 0;
  retryNotices = [];
  store = await newStore();
});

const BLOB = new RegExp(`/blobs/${blob.digest}`);
const MANIFEST = /\/manifests\//;

let retryNotices: RetryNotice[] = [];

function run(opts: { token?: string; timeoutMs?: number; reference?: string; pull?: PullOptions } = {}): Promise<PullResult> {
  const c = new RegistryClient(proxy.host, {
    onRetry: (n) => retryNotices.push(n),
    retryBaseMs: 5,
    timeoutMs: opts.timeoutMs ?? 5000,
    maxRetryAfterMs: 2000,
    ...(opts.token ? { credentials: async () => ({ kind: 'bearer' as const, token: opts.token as string, source: 'env' as const }) } : {}),
  });
  const reference = opts.reference ?? '2025.06.06';
  return pull(registrySource(c, REPO, reference), store, parseReference(`${proxy.host}/${REPO}:${reference}`), opts.pull).finally(() => c.close());
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<FlightDeckError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(FlightDeckError);
  expect((err as FlightDeckError).code).toBe(code);
  expect((err as FlightDeckError).hint.length).toBeGreaterThan(10);
  return err as FlightDeckError;
}

/** No partial and no unverified blob: the layer is absent and ingest/ is empty. */
function expectCleanStore(): void {
  const { blobs, ingest } = storeFiles(store);
  expect(blobs).not.toContain(blob.digest.slice(7));
  expect(ingest).toEqual([]);
}

/** A network failure: the layer is absent from blobs/, its verified-so-far partial kept for a resume. */
function expectPartialOnly(): void {
  const { blobs, ingest } = storeFiles(store);
  expect(blobs).not.toContain(blob.digest.slice(7));
  expect(ingest).toEqual([`${blob.digest.slice(7)}.partial`]);
}

function expectStored(): void {
  expect(readFileSync(store.blobPath(blob.digest)).equals(blob.bytes)).toBe(true);
  expect(storeFiles(store).ingest).toEqual([]);
}

describe('faults while pulling (real registry behind a fault-injecting proxy)', () => {
  it('wrong digest in the body → BLOB_DIGEST_MISMATCH', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'corrupt' } });
    const err = await expectCode(run(), 'BLOB_DIGEST_MISMATCH');
    expect(err.message).toContain(blob.digest);
    expectCleanStore();
  });

  it('truncated body (short Content-Length) → BLOB_SIZE_MISMATCH', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'short' } });
    await expectCode(run(), 'BLOB_SIZE_MISMATCH');
    expectCleanStore();
  });

  it('a body longer than declared → BLOB_SIZE_MISMATCH', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'long', extra: 100 } });
    await expectCode(run(), 'BLOB_SIZE_MISMATCH');
    expectCleanStore();
  });

  it('connection reset mid-blob → resumes with Range (206 + exact Content-Range) and stores the verified blob', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 100_000 }, times: 1 });
    const before = proxy.log.length;
    await run();
    expectStored();
    const gets = proxy.log.slice(before).filter((r) => BLOB.test(r.path));
    expect(gets.length).toBe(2);
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(gets[1]?.range?.slice(6, -1))).toBeGreaterThan(0);
    expect(gets[1]?.status).toBe(206);
  });

  it('a resumed request answered with the wrong Content-Range restarts from zero', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 50_000 }, times: 1 });
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'bad-range' }, times: 1 });
    const before = proxy.log.length;
    await run();
    expectStored();
    const gets = proxy.log.slice(before).filter((r) => BLOB.test(r.path));
    expect(gets.map((g) => g.range === undefined)).toEqual([true, false, true]);
  });

  it('a server that ignores Range (200 instead of 206) → the download restarts from zero and succeeds', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 60_000 }, times: 1 });
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'ignore-range' }, times: 1 });
    const before = proxy.log.length;
    await run();
    expectStored();
    const gets = proxy.log.slice(before).filter((r) => BLOB.test(r.path));
    expect(gets.map((g) => [g.range !== undefined, g.status])).toEqual([
      [false, 200],
      [true, 200],
    ]);
  });

  it('a connection reset on every attempt → REGISTRY_UNREACHABLE, the verified-so-far partial kept, no blob', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 10_000 } });
    await expectCode(run(), 'REGISTRY_UNREACHABLE');
    expectPartialOnly();
  });

  it('a registry outage longer than the retry budget keeps the partial; the next pull resumes it with Range', async () => {
    // The first body breaks off after 100 000 bytes, then the registry is down (every connection closed
    // unanswered) until that pull has given up: it fails, but the bytes it had are kept.
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 100_000 }, times: 1 });
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'drop' } });
    await expectCode(run(), 'REGISTRY_UNREACHABLE');
    expect(proxy.log.filter((r) => r.fault === 'drop').length).toBeGreaterThanOrEqual(5);
    proxy.rules.length = 0;
    expectPartialOnly();
    const kept = statSync(path.join(store.ingestDir(), `${blob.digest.slice(7)}.partial`)).size;
    expect(kept).toBeGreaterThan(0);
    const before = proxy.log.length;
    await run();
    expectStored();
    const gets = proxy.log.slice(before).filter((r) => BLOB.test(r.path));
    expect(gets.map((g) => [g.range, g.status])).toEqual([[`bytes=${kept}-`, 206]]);
  });

  it('a complete partial left before its rename is verified and stored without asking the registry', async () => {
    // What a run killed between the last byte and the rename leaves; `Range: bytes=<size>-` would get 416.
    mkdirSync(store.ingestDir(), { recursive: true });
    writeFileSync(path.join(store.ingestDir(), `${blob.digest.slice(7)}.partial`), blob.bytes);
    const before = proxy.log.length;
    await run();
    expectStored();
    expect(proxy.log.slice(before).filter((g) => BLOB.test(g.path))).toEqual([]);
  });

  it('a complete partial with the wrong bytes is thrown away and the blob downloaded from zero', async () => {
    mkdirSync(store.ingestDir(), { recursive: true });
    writeFileSync(path.join(store.ingestDir(), `${blob.digest.slice(7)}.partial`), Buffer.alloc(blob.bytes.length, 0x5a));
    const before = proxy.log.length;
    await run();
    expectStored();
    expect(
      proxy.log
        .slice(before)
        .filter((g) => BLOB.test(g.path))
        .map((g) => [g.range, g.status]),
    ).toEqual([[undefined, 200]]);
  });

  it('401 with a bad token → REGISTRY_UNAUTHORIZED, token not in the message', async () => {
    proxy.rules.push({ path: MANIFEST, fault: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } } });
    const err = await expectCode(run({ token: 'bad-token-s3cr3t-value' }), 'REGISTRY_UNAUTHORIZED');
    expect(JSON.stringify(err.toJSON())).not.toContain('s3cr3t');
    expectCleanStore();
  });

  it('403 → REGISTRY_FORBIDDEN', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'status', status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}' } });
    await expectCode(run(), 'REGISTRY_FORBIDDEN');
    expectCleanStore();
  });

  it('404 for a repository, a tag and a blob → NOT_FOUND naming it', async () => {
    const c = new RegistryClient(proxy.host);
    const repoErr = await expectCode(c.getManifest('flight/nope', 'latest'), 'NOT_FOUND');
    expect(repoErr.message).toContain('flight/nope');
    const tagErr = await expectCode(run({ reference: '1999.01.01' }), 'NOT_FOUND');
    expect(tagErr.message).toContain('1999.01.01');
    proxy.rules.push({
      method: 'GET',
      path: BLOB,
      fault: { kind: 'status', status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}' },
    });
    const blobErr = await expectCode(run(), 'NOT_FOUND');
    expect(blobErr.message).toContain(blob.digest);
    expectCleanStore();
    c.close();
  });

  it('429 with Retry-After → waits and succeeds; a Retry-After over the cap → RATE_LIMITED', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 });
    const started = Date.now();
    await run();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expectStored();
    store = await newStore();
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    const err = await expectCode(run(), 'RATE_LIMITED');
    expect(err.message).toContain('3600');
    expectCleanStore();
  });

  it('500 then success → retried, each retry announced with its reason, number and wait', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'status', status: 500 }, times: 2 });
    await run();
    expectStored();
    expect(retryNotices).toEqual(
      [1, 2].map((attempt) => ({
        registry: proxy.host,
        request: `GET /v2/${REPO}/blobs/${blob.digest}`,
        reason: 'HTTP 500',
        attempt,
        of: 4,
        waitMs: expect.any(Number),
      })),
    );
  });

  it('a slow server within the timeout → succeeds', async () => {
    // 40 ms between chunks, an idle timeout 250 times that: a loaded machine's pauses stay far inside it.
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'slow', delayMs: 40, chunk: 32 * 1024 } });
    await run({ timeoutMs: 10_000 });
    expectStored();
  });

  it('a server that stalls longer than the idle timeout on every attempt → REGISTRY_UNREACHABLE after bounded retries', async () => {
    // Slow by construction: every attempt gets 8 KiB and then nothing until the client hangs up (a 400 ms
    // pause could be shorter than a 150 ms timer that a loaded machine fires late).
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'stall', after: 8 * 1024 } });
    await expectCode(run({ timeoutMs: 150 }), 'REGISTRY_UNREACHABLE');
    expectPartialOnly();
  });

  it('redirect to another host → followed without forwarding Authorization', async () => {
    const other = await startRecordingServer(blob.bytes);
    try {
      proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'redirect', to: other.url } });
      const before = proxy.log.length;
      await run({ token: 'registry-only-token-1234' });
      expectStored();
      expect(
        proxy.log
          .slice(before)
          .filter((r) => BLOB.test(r.path))
          .every((r) => r.authorization),
      ).toBe(true);
      expect(other.seen.length).toBe(1);
      expect(other.seen[0]?.authorization).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('malformed manifest JSON → MANIFEST_INVALID', async () => {
    proxy.rules.push({ method: 'GET', path: MANIFEST, fault: { kind: 'replace', body: Buffer.from('{"schemaVersion": 2, "layers": [') } });
    await expectCode(run(), 'MANIFEST_INVALID');
    expectCleanStore();
  });

  it('a manifest over the 4 MiB cap → MANIFEST_TOO_LARGE', async () => {
    const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, pad: 'x'.repeat(4 * 1024 * 1024 + 10) }));
    proxy.rules.push({ method: 'GET', path: MANIFEST, fault: { kind: 'replace', body: huge } });
    await expectCode(run(), 'MANIFEST_TOO_LARGE');
    expectCleanStore();
  });

  it('an unknown manifest media type → MEDIA_TYPE_UNSUPPORTED', async () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [] }));
    proxy.rules.push({ method: 'GET', path: MANIFEST, fault: { kind: 'replace', body, contentType: 'application/vnd.example.unknown+json' } });
    await expectCode(run(), 'MEDIA_TYPE_UNSUPPORTED');
    expectCleanStore();
  });

  it('a digest with path characters → rejected before any request or path', async () => {
    const before = proxy.log.length;
    expect(() => parseReference(`${proxy.host}/${REPO}@sha256:../../../etc/passwd`)).toThrowError(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    const evil = await expectCode((async () => store.blobPath('sha256:../../etc/passwd'))(), 'DIGEST_INVALID');
    expect(evil.message).toContain('passwd');
    // A manifest whose layer digest has path characters is refused as a whole.
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.empty, digest: 'sha256:../../x', size: 2 }, layers: [] }),
    );
    proxy.rules.push({ method: 'GET', path: MANIFEST, fault: { kind: 'replace', body, contentType: MEDIA.ociManifest } });
    await expectCode(run(), 'MANIFEST_INVALID');
    expect(proxy.log.slice(before).some((r) => r.path.includes('..'))).toBe(false);
    expectCleanStore();
  });

  it('cancel mid-blob → ABORTED keeping the verified-so-far partial; the next pull resumes it with Range', async () => {
    proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'slow', delayMs: 30, chunk: 16 * 1024 }, times: 1 });
    const ac = new AbortController();
    const c = new RegistryClient(proxy.host, { retryBaseMs: 5 });
    const ref = parseReference(`${proxy.host}/${REPO}:2025.06.06`);
    const pending = pull(registrySource(c, REPO, '2025.06.06'), store, ref, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.phase === 'bytes' && e.done >= 64 * 1024) ac.abort();
      },
    });
    await expectCode(pending, 'ABORTED');
    expect(storeFiles(store).blobs).not.toContain(blob.digest.slice(7));
    expect(storeFiles(store).ingest).toEqual([`${blob.digest.slice(7)}.partial`]);
    const before = proxy.log.length;
    await pull(registrySource(c, REPO, '2025.06.06'), store, ref);
    c.close();
    expectStored();
    const get = proxy.log.slice(before).find((r) => BLOB.test(r.path));
    expect(get?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(get?.status).toBe(206);
  });

  it('a full disk (ENOSPC) → DISK_FULL, no partial left', async () => {
    // The blob's partial file is a link to /dev/full, so the kernel answers every write with ENOSPC.
    mkdirSync(store.ingestDir(), { recursive: true });
    symlinkSync('/dev/full', path.join(store.ingestDir(), `${blob.digest.slice(7)}.partial`));
    await expectCode(run(), 'DISK_FULL');
    expectCleanStore();
  });

  // pull --output (core/oci/extract.ts OutputWriter): with `copy` the file is written from the download's
  // own verified stream (BlobWriter's copy); with `auto` (the default) it is a hard link to the very file
  // the download verified and stored. Either way it must be exactly as trustworthy as the store blob.
  describe.each(['auto', 'copy'] as const)('pull --output, link mode %s: the file holds only verified bytes', (linkMode) => {
    /** A pull with --output's writer (as the registry.pull handler runs it): pull, then write, abort on error. */
    async function pullTo(out: string): Promise<string[]> {
      const output = new OutputWriter(out, { unpack: false, linkMode });
      try {
        const r = await run({ pull: { verifyExisting: false, copyTo: output.copyTo } });
        return (await output.write(store, r.layers)).map((f) => f.path);
      } catch (err) {
        await output.abort();
        throw err;
      }
    }

    it('a corrupt body → BLOB_DIGEST_MISMATCH: no output file, no temp file, not even the folder', async () => {
      const out = path.join(tempDir(), 'out');
      proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'corrupt' } });
      await expectCode(pullTo(out), 'BLOB_DIGEST_MISMATCH');
      expect(() => readdirSync(out)).toThrow(/ENOENT/);
      expectCleanStore();
      // Into a folder that exists: it is left empty.
      const existing = tempDir();
      await expectCode(pullTo(existing), 'BLOB_DIGEST_MISMATCH');
      expect(readdirSync(existing)).toEqual([]);
    });

    it('a body longer than declared → BLOB_SIZE_MISMATCH, the output folder stays empty', async () => {
      const out = tempDir();
      proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'long', extra: 100 } });
      await expectCode(pullTo(out), 'BLOB_SIZE_MISMATCH');
      expect(readdirSync(out)).toEqual([]);
    });

    it('a reset mid-blob resumes with Range: the output file is complete and right', async () => {
      const out = tempDir();
      proxy.rules.push({ method: 'GET', path: BLOB, fault: { kind: 'reset', after: 100_000 }, times: 1 });
      const files = await pullTo(out);
      expect(files).toEqual([path.join(out, 'memory.wasm')]);
      expect(readFileSync(files[0]!).equals(blob.bytes)).toBe(true);
      expect(readdirSync(out)).toEqual(['memory.wasm']);
      expectStored();
      // auto: the store's file itself (same inode), read-only; copy: a file of its own.
      const [file, stored] = [statSync(files[0]!), statSync(store.blobPath(blob.digest))];
      expect([file.ino === stored.ino, file.mode & 0o777]).toEqual(linkMode === 'auto' ? [true, 0o444] : [false, 0o644]);
    });

    it('a store blob damaged in place between the pull and the output never reaches the output', async () => {
      const out = tempDir();
      const output = new OutputWriter(out, { unpack: false, linkMode });
      const r = await run({ pull: { verifyExisting: false, copyTo: output.copyTo } });
      // A flipped bit, written in place (same inode) after the download verified and stored the blob.
      const stored = readFileSync(store.blobPath(blob.digest));
      stored[100]! ^= 0xff;
      writeFileSync(store.blobPath(blob.digest), stored);
      if (linkMode === 'copy') {
        // The output came from the verified download stream: the damage does not matter to it.
        await output.write(store, r.layers);
        expect(readFileSync(path.join(out, 'memory.wasm')).equals(blob.bytes)).toBe(true);
      } else {
        // The stored file changed since it was verified (its modification time): it is not linked; the
        // verified read of the store finds the damage instead. No output file.
        await expectCode(
          output.write(store, r.layers).catch(async (err: unknown) => {
            await output.abort();
            throw err;
          }),
          'BLOB_CORRUPT',
        );
        expect(readdirSync(out)).toEqual([]);
        return;
      }
      // A second pull finds the blob present and reads it verified before sharing or copying it: BLOB_CORRUPT, no file.
      const again = tempDir();
      await expectCode(pullTo(again), 'BLOB_CORRUPT');
      expect(readdirSync(again)).toEqual([]);
    });

    it('a blob already stored is hashed before it is shared or copied: damaged in place → BLOB_CORRUPT, no output', async () => {
      const first = tempDir();
      await pullTo(first);
      const second = tempDir();
      expect(await pullTo(second)).toEqual([path.join(second, 'memory.wasm')]);
      // Damage in place after those outputs (with auto, the outputs are this very file): a third pull must
      // neither link nor copy it.
      const stored = readFileSync(store.blobPath(blob.digest));
      stored[7]! ^= 0x01;
      writeFileSync(store.blobPath(blob.digest), stored);
      const third = tempDir();
      await expectCode(pullTo(third), 'BLOB_CORRUPT');
      expect(readdirSync(third)).toEqual([]);
    });
  });

  it('pull --output to another file system (tmpfs) writes copies from the download stream', async () => {
    const shm = '/dev/shm';
    if (!existsSync(shm) || statSync(shm).dev === statSync(store.root).dev) {
      console.warn('pull --output across file systems: skipped, /dev/shm is missing or on the store’s file system');
      return;
    }
    const out = mkdtempSync(path.join(shm, 'fd-out-'));
    try {
      const output = new OutputWriter(out, { unpack: false });
      const r = await run({ pull: { verifyExisting: false, copyTo: output.copyTo } });
      const files = await output.write(store, r.layers);
      expect(files.map((f) => f.method)).toEqual(['copy']);
      expect(readFileSync(files[0]!.path).equals(blob.bytes)).toBe(true);
      expect(statSync(files[0]!.path).mode & 0o777).toBe(0o644);
      expect(readdirSync(out)).toEqual(['memory.wasm']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
