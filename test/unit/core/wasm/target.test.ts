import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { inspectTarget } from '../../../../core/wasm/target.js';
import { DEFAULT_BUNDLE_LIMITS } from '../../../../core/wasm/bundle.js';
import type { FlightDeckError } from '../../../../core/errors.js';
import { customSection, engineRejectedModule, fixture, fixtureBytes } from '../../../support/wasm.js';
import { CROSS_CHECK_OFF_NOTE, PARALLEL_CHECK_MIN_BYTES, parseWasm } from '../../../../core/wasm/parser.js';
import { bytesSource, readShared } from '../../../../core/wasm/reader.js';
import { engineWorker } from '../../../../core/wasm/engine.js';
import type * as Engine from '../../../../core/wasm/engine.js';
import type * as Reader from '../../../../core/wasm/reader.js';
import { tar, tarGz } from '../../../support/tar.js';
import { ociLayout } from '../../../support/oci-layout.js';

// The real engine worker and shared read, counted: which path a big file took is seen from the outside.
vi.mock('../../../../core/wasm/engine.js', async (importOriginal) => {
  const actual = await importOriginal<typeof Engine>();
  return { ...actual, engineWorker: vi.fn(actual.engineWorker) };
});
vi.mock('../../../../core/wasm/reader.js', async (importOriginal) => {
  const actual = await importOriginal<typeof Reader>();
  return { ...actual, readShared: vi.fn(actual.readShared) };
});

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-target-'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function write(dir: string, name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

async function failure(p: Promise<unknown>): Promise<FlightDeckError> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: FlightDeckError) => e,
  );
}

describe('inspectTarget', () => {
  it('a big module file is read once into shared memory: the same report and digest as the streamed read, and the engine still judges it', async () => {
    const dir = tmp();
    const pad = customSection('padding', new Uint8Array(PARALLEL_CHECK_MIN_BYTES));
    const good = Buffer.concat([fixtureBytes('mem-16mib'), pad]);
    const file = write(dir, 'big.wasm', good);
    const r = await inspectTarget(file);
    expect(r.modules[0]!.sha256).toBe(`sha256:${sha(good)}`);
    // The streamed read (a module inside a bundle, or any input of unknown size) reports the same.
    const streamed = await parseWasm(bytesSource(good), { name: file });
    expect(r.modules[0]!.report).toEqual(streamed);
    expect(r.modules[0]!.report.validation).toMatchObject({ checked: true, valid: true });
    // In a folder too (each file is read the same way).
    const inDir = await inspectTarget(dir);
    expect(inDir.modules.map((m) => m.sha256)).toEqual([`sha256:${sha(good)}`]);

    // A module the decoder accepts and V8 rejects (a function returning nothing declared to return i32).
    const bad = engineRejectedModule();
    const badFile = write(dir, 'bad-big.wasm', Buffer.concat([bad, pad]));
    const err = await failure(inspectTarget(badFile));
    expect(err.code).toBe('WASM_MALFORMED');
    expect(err.message).toContain('rejects the module');
    // With the engine check off, the decoder's own verdict stands (and no worker is involved).
    const off = await inspectTarget(badFile, { crossCheck: false });
    expect(off.modules[0]!.report.validation).toEqual({ checked: false, valid: null, engine: expect.any(String), note: CROSS_CHECK_OFF_NOTE });
  });

  it('a big module file without the engine check is still read whole and decoded in place: the same report, and no engine worker', async () => {
    const dir = tmp();
    const bytes = Buffer.concat([fixtureBytes('simd'), customSection('padding', new Uint8Array(PARALLEL_CHECK_MIN_BYTES))]);
    const file = write(dir, 'big-simd.wasm', bytes);
    vi.mocked(engineWorker).mockClear();
    vi.mocked(readShared).mockClear();
    const checked = await inspectTarget(file);
    expect(vi.mocked(engineWorker)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(readShared)).toHaveBeenCalledTimes(1);
    expect(checked.modules[0]!.report.validation).toMatchObject({ checked: true, valid: true });

    vi.mocked(engineWorker).mockClear();
    vi.mocked(readShared).mockClear();
    const off = await inspectTarget(file, { crossCheck: false });
    expect(vi.mocked(engineWorker)).not.toHaveBeenCalled();
    expect(vi.mocked(readShared)).toHaveBeenCalledWith(file, bytes.length);
    const [a, b] = [checked.modules[0]!, off.modules[0]!];
    expect(b.sha256).toBe(`sha256:${sha(bytes)}`);
    expect(b.sha256).toBe(a.sha256);
    expect(b.report.features).toEqual(['simd']);
    expect(b.report.instructions).toBeGreaterThan(0);
    expect({ ...b.report, validation: undefined }).toEqual({ ...a.report, validation: undefined });
    expect(b.report.validation).toMatchObject({ checked: false, valid: null, note: CROSS_CHECK_OFF_NOTE });
    // The streamed decoding of the same bytes (a module in a bundle) agrees.
    expect(b.report).toEqual(await parseWasm(bytesSource(bytes), { name: file, crossCheck: false }));
  });

  it('a shared read of a file that is not the size it had (it changed while read) is IO_ERROR, never a short or mixed buffer', async () => {
    const file = write(tmp(), 'm.wasm', Buffer.alloc(5 * 1024 * 1024, 7));
    for (const size of [5 * 1024 * 1024 + 10, 5 * 1024 * 1024 - 10]) {
      const read = readShared(file, size);
      const slices = (async () => {
        for await (const slice of read.slices) void slice;
      })();
      expect((await failure(slices)).code).toBe('IO_ERROR');
      expect((await failure(read.whole)).message).toContain('changed while it was read');
    }
    const read = readShared(file, 5 * 1024 * 1024);
    let total = 0;
    for await (const slice of read.slices) total += slice.length;
    expect(total).toBe(5 * 1024 * 1024);
    expect(sha(await read.whole)).toBe(sha(Buffer.alloc(5 * 1024 * 1024, 7)));
  });

  it('inspects one file, hashing it while streaming', async () => {
    const file = fixture('simd');
    const r = await inspectTarget(file);
    expect(r).toMatchObject({ target: file, inputKind: 'file', annotations: {} });
    expect(r.modules).toHaveLength(1);
    expect(r.modules[0]!.sha256).toBe(`sha256:${sha(fixtureBytes('simd'))}`);
  });

  it('inspects every .wasm below a directory, with manifest.json annotations', async () => {
    const dir = tmp();
    write(dir, 'b/thread.wasm', fixtureBytes('shared-memory'));
    write(dir, 'a.wasm', fixtureBytes('simd'));
    write(dir, 'README.md', 'not wasm');
    write(dir, 'manifest.json', JSON.stringify({ annotations: { 'flight.target-platform': 'vita', other: 'x' } }));
    const r = await inspectTarget(dir);
    expect(r.inputKind).toBe('directory');
    expect(r.modules.map((m) => m.path)).toEqual(['a.wasm', 'b/thread.wasm']);
    expect(r.annotations).toEqual({ 'flight.target-platform': 'vita' });
  });

  it('inspects every module of a tar+gzip bundle and reads its manifest', async () => {
    const dir = tmp();
    const file = write(
      dir,
      'bundle.tar.gz',
      tarGz([
        { name: 'manifest.json', body: JSON.stringify({ 'flight.memory-limit': '16MB', 'flight.cpu-threads': 1 }) },
        { name: 'wasm/', type: '5' },
        { name: './wasm/app.wasm', body: fixtureBytes('mem-16mib') },
        { name: 'wasm/worker.wasm', body: fixtureBytes('shared-memory') },
      ]),
    );
    const r = await inspectTarget(file);
    expect(r.inputKind).toBe('bundle');
    expect(r.annotations).toEqual({ 'flight.memory-limit': '16MB', 'flight.cpu-threads': '1' });
    expect(r.modules.map((m) => [m.path, m.report.features])).toEqual([
      ['wasm/app.wasm', []],
      ['wasm/worker.wasm', ['threads']],
    ]);
    expect(r.modules[1]!.sha256).toBe(`sha256:${sha(fixtureBytes('shared-memory'))}`);
  });

  it.each([
    ['a ".." path', [{ name: '../evil.wasm', body: 'x' }], /"\.\." /],
    ['an absolute path', [{ name: '/etc/evil.wasm', body: 'x' }], /absolute/],
    ['a symlink', [{ name: 'link.wasm', type: '2', linkname: '/etc/passwd' }], /link entry/],
  ])('refuses a bundle with %s (BUNDLE_MALFORMED)', async (_what, entries, message) => {
    const file = write(tmp(), 'bad.tar.gz', tarGz(entries));
    const err = await failure(inspectTarget(file));
    expect(err.code).toBe('BUNDLE_MALFORMED');
    expect(err.message).toMatch(message);
    expect(err.details?.offset).toBe(0);
  });

  it('refuses a gzip bomb by ratio and by size, and a corrupt header checksum', async () => {
    const dir = tmp();
    const zeros = write(dir, 'bomb.tar.gz', tarGz([{ name: 'zeros.bin', body: new Uint8Array(40 * 1024 * 1024) }]));
    const bomb = await failure(inspectTarget(zeros));
    expect(bomb).toMatchObject({ code: 'BUNDLE_MALFORMED' });
    expect(bomb.message).toMatch(/compression ratio above 200:1/);
    const capped = await failure(inspectTarget(zeros, { bundleLimits: { ...DEFAULT_BUNDLE_LIMITS, maxUnpackedBytes: 1024 * 1024, maxRatio: 1e9 } }));
    expect(capped.message).toMatch(/unpacks to more than 1048576 bytes/);
    const raw = tar([{ name: 'a.wasm', body: fixtureBytes('simd') }]);
    raw[10] = raw[10]! ^ 0xff;
    const broken = await failure(inspectTarget(write(dir, 'sum.tar.gz', gzipSync(raw))));
    expect(broken.message).toMatch(/checksum mismatch at byte offset 0/);
    const notGzip = await failure(inspectTarget(write(dir, 'trunc.tar.gz', gzipSync(raw).subarray(0, 40))));
    expect(notGzip.code).toBe('BUNDLE_MALFORMED');
  });

  it('reports a malformed module inside a bundle with the entry name and offset', async () => {
    const bytes = Buffer.from(fixtureBytes('simd'));
    const file = write(tmp(), 'b.tar.gz', tarGz([{ name: 'bad.wasm', body: bytes.subarray(0, 20) }]));
    const err = await failure(inspectTarget(file));
    expect(err.code).toBe('WASM_MALFORMED');
    expect(err.message).toContain('b.tar.gz!bad.wasm');
    expect(err.message).toMatch(/byte offset \d+/);
  });

  it('reads an OCI image layout: wasm layers, tar+gzip layers and manifest annotations, verifying digests', async () => {
    const dir = tmp();
    ociLayout(
      dir,
      'v1',
      [
        { mediaType: 'application/vnd.wasm.content.layer.v1+wasm', bytes: fixtureBytes('mem-16mib'), title: 'app.wasm' },
        { mediaType: 'application/tar+gzip', bytes: tarGz([{ name: 'w.wasm', body: fixtureBytes('simd') }]), title: 'extra.tar.gz' },
      ],
      { 'flight.target-platform': 'dreamcast', 'flight.cpu-threads': '1' },
    );
    const r = await inspectTarget(`oci:${dir}:v1`);
    expect(r.inputKind).toBe('oci-layout');
    expect(r.annotations).toMatchObject({ 'flight.target-platform': 'dreamcast', 'flight.cpu-threads': '1' });
    expect(r.modules.map((m) => m.path)).toEqual(['app.wasm', 'extra.tar.gz!w.wasm']);
    expect((await failure(inspectTarget(`oci:${dir}:v2`))).code).toBe('NOT_FOUND');
    // Change the wasm blob (still a valid module of the same size): the digest check fails.
    const blob = path.join(dir, 'blobs/sha256', sha(fixtureBytes('mem-16mib')));
    const bad = Buffer.from(fixtureBytes('mem-16mib'));
    bad[bad.length - 2] = 0x07; // i32.const 42 -> i32.const 7
    writeFileSync(blob, bad);
    const corrupt = await failure(inspectTarget(`oci:${dir}:v1`));
    expect(corrupt.code).toBe('BLOB_CORRUPT');
    expect(corrupt.hint).toContain(`The folder ${dir} is damaged`);
    // A folder that is not the content store is left as it is (nothing quarantined).
    expect(readFileSync(blob)).toEqual(bad);
  });

  it('an OCI layout that is broken fails with the code naming what is wrong', async () => {
    const layer = { mediaType: 'application/vnd.wasm.content.layer.v1+wasm', bytes: fixtureBytes('simd'), title: 'simd.wasm' };
    const blobOf = (dir: string) => path.join(dir, 'blobs/sha256', sha(fixtureBytes('simd')));
    // No oci-layout file: not a layout.
    const noMarker = tmp();
    ociLayout(noMarker, 'v1', [layer], {});
    const { rmSync, truncateSync } = await import('node:fs');
    rmSync(path.join(noMarker, 'oci-layout'));
    const e1 = await failure(inspectTarget(`oci:${noMarker}:v1`));
    expect(e1.code).toBe('LAYOUT_INVALID');
    expect(e1.message).toContain(noMarker);
    // A layer blob missing from blobs/.
    const missing = tmp();
    ociLayout(missing, 'v1', [layer], {});
    rmSync(blobOf(missing));
    const e2 = await failure(inspectTarget(`oci:${missing}:v1`));
    expect(e2.code).toBe('LAYOUT_INVALID');
    expect(e2.message).toContain(`sha256:${sha(fixtureBytes('simd'))} is missing`);
    // A layer blob cut short: the size check names the descriptor's size.
    const short = tmp();
    ociLayout(short, 'v1', [layer], {});
    truncateSync(blobOf(short), 10);
    const e3 = await failure(inspectTarget(`oci:${short}:v1`));
    expect(e3.code).toBe('BLOB_CORRUPT');
    expect(e3.message).toContain(`has 10 bytes, its descriptor says ${fixtureBytes('simd').length}`);
    // Several manifests and no tag: which one is meant is ambiguous.
    const two = tmp();
    ociLayout(two, 'v1', [layer], {});
    const index = JSON.parse((await import('node:fs')).readFileSync(path.join(two, 'index.json'), 'utf8')) as {
      manifests: Array<{ annotations: Record<string, string> }>;
    };
    index.manifests.push({ ...index.manifests[0]!, annotations: { 'org.opencontainers.image.ref.name': 'v2' } });
    write(two, 'index.json', JSON.stringify(index));
    const e4 = await failure(inspectTarget(`oci:${two}`));
    expect(e4.code).toBe('NOT_FOUND');
    expect(e4.hint).toMatch(/several manifests/);
    expect((await inspectTarget(`oci:${two}:v2`)).modules).toHaveLength(1);
  });

  it('hands registry references to a resolver (the registry client plugs in there) and walks its layout', async () => {
    const dir = tmp();
    ociLayout(dir, 'v1', [{ mediaType: 'application/vnd.wasm.content.layer.v1+wasm', bytes: fixtureBytes('simd'), title: 'simd.wasm' }], {
      'flight.target-platform': 'vita',
    });
    const asked: string[] = [];
    const r = await inspectTarget('localhost:5000/flight/wasm/complete:v1', {
      resolveReference: async (ref) => {
        asked.push(ref);
        return `oci:${dir}:v1`;
      },
    });
    expect(asked).toEqual(['localhost:5000/flight/wasm/complete:v1']);
    expect(r).toMatchObject({ inputKind: 'oci-layout', annotations: { 'flight.target-platform': 'vita' } });
    expect(r.modules.map((m) => m.report.features)).toEqual([['simd']]);
  });

  it('names registry references it cannot pull without a resolver, and missing paths', async () => {
    expect((await failure(inspectTarget('registry.example:5000/flight/bundle:v1'))).code).toBe('REFERENCE_INVALID');
    expect((await failure(inspectTarget('/nonexistent/file.wasm'))).code).toBe('NOT_FOUND');
    expect((await failure(inspectTarget('dist/missing.wasm'))).code).toBe('NOT_FOUND'); // a path, not a registry
    expect((await failure(inspectTarget('./dist/missing.wasm'))).code).toBe('NOT_FOUND');
    const empty = tmp();
    expect((await failure(inspectTarget(empty))).code).toBe('INVALID_INPUT');
  });
});
