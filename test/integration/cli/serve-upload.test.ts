import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiError, createClient, wsTransport, type ApiClient, type WebSocketLike } from '../../../core/api/client.js';
import { UPLOAD_CHUNK_BYTES, UPLOAD_MAX_BYTES } from '../../../core/api/contract.js';
import { resolvePaths } from '../../../core/config/paths.js';
import { uploadFile } from '../../../renderer/src/lib/upload.js';
import { ROOT, tempHome } from '../../support/cli.js';
import { readLayout } from '../../support/oci-layout.js';
import { startServe, type ServeProcess } from '../../support/serve.js';
import { dataModule } from '../../support/wasm.js';

// A local file handed to the app from a browser: the renderer's own upload helper (renderer/src/lib/upload.ts)
// over the real web host's WebSocket (`flightdeck serve`, the `ws` package as the page's socket), a real
// module from wat2wasm larger than one WebSocket message (4 MiB), then checked by path with `wasm.check`.
let serve: ServeProcess;
let uploads: string;
let api: ApiClient;
/** Every frame the client sent, by size: no chunk may come near the host's 4 MiB message cap. */
const sent: number[] = [];
/** Told of each frame the client sends (after it went out). */
let onSent: ((frame: string) => void) | undefined;
const MODULE_BYTES = 5 * 1024 * 1024 + 12345;
let wasm: Buffer;

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const file = (bytes: Buffer, name: string) => new File([new Uint8Array(bytes)], name);
/** What the uploads folder holds: finished files (<sha256>/<name>) and temp files (.<id>.part). */
const left = () => (existsSync(uploads) ? readdirSync(uploads, { recursive: true }).map(String).sort() : []);
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
  );

beforeAll(async () => {
  const home = tempHome();
  uploads = path.join(resolvePaths({ FLIGHTDECK_HOME: home }).data, 'uploads');
  // 600 pages (37.5 MiB) of memory: over the Dreamcast's budget, within the Vita's.
  wasm = dataModule(MODULE_BYTES, 600);
  serve = await startServe({ FLIGHTDECK_HOME: home });
  const url = serve.origin.replace('http', 'ws') + '/api/ws';
  api = createClient(
    wsTransport(url, serve.token, (u, p) => {
      const ws = new WebSocket(u, p, { origin: serve.origin });
      const send = ws.send.bind(ws);
      (ws as unknown as { send: (d: string) => void }).send = (d: string) => {
        sent.push(Buffer.byteLength(d));
        send(d);
        onSent?.(d);
      };
      return ws as unknown as WebSocketLike;
    }),
  );
});

afterAll(async () => {
  await serve?.stop();
});

describe('a local file handed to the web host in chunks', () => {
  it('uploads a 5 MiB module in 1 MiB chunks with progress, keeps it whole, and check reads it by the path returned', async () => {
    expect(wasm.length).toBeGreaterThan(4 * 1024 * 1024);
    const seen: number[] = [];
    const started = performance.now();
    const up = await uploadFile(api, file(wasm, 'big data.wasm'), { signal: new AbortController().signal, onProgress: (p) => seen.push(p.done) });
    const ms = performance.now() - started;
    console.log(`uploaded ${wasm.length} bytes in ${ms.toFixed(0)} ms (${(wasm.length / 1048576 / (ms / 1000)).toFixed(1)} MiB/s)`);
    expect(up).toMatchObject({ name: 'big_data.wasm', size: wasm.length, sha256: hex(wasm) });
    expect(path.relative(uploads, up.path)).toBe(path.join(hex(wasm), 'big_data.wasm'));
    expect(readFileSync(up.path).equals(wasm)).toBe(true);
    // Progress from 0 to the whole, one step per chunk; no message near the 4 MiB cap.
    expect(seen).toEqual([
      0,
      ...Array.from({ length: Math.ceil(wasm.length / UPLOAD_CHUNK_BYTES) }, (_, i) => Math.min((i + 1) * UPLOAD_CHUNK_BYTES, wasm.length)),
    ]);
    expect(Math.max(...sent)).toBeLessThan(2 * 1024 * 1024);
    expect(left().filter((f) => f.endsWith('.part'))).toEqual([]);

    const report = await api.call('wasm.check', { target: up.path, platforms: ['dreamcast', 'vita'] });
    expect(report.target).toBe(up.path);
    expect(report.modules).toHaveLength(1);
    expect(report.modules[0]).toMatchObject({ size: wasm.length, sha256: `sha256:${hex(wasm)}` });
    expect(report.modules[0]!.memory.dataBytes).toBeGreaterThanOrEqual(MODULE_BYTES);
    expect(report.platforms.map((p) => [p.id, p.fits])).toEqual([
      ['dreamcast', false],
      ['vita', true],
    ]);
    expect(report.platforms[0]!.findings.some((f) => f.severity === 'error')).toBe(true);
  });

  it('a local .tar.gz bundle: its modules are listed for the deploy form and it is checked, by the path returned', async () => {
    const layout = readLayout(path.join(ROOT, 'assets', 'demo-kit'));
    const layer = layout.manifest('flight/shared-types/bundles/vita:latest').layers.find((l) => l.mediaType === 'application/tar+gzip')!;
    const bundle = layout.blob(layer.digest);
    const up = await uploadFile(api, file(bundle, 'vita.tar.gz'), { signal: new AbortController().signal });
    // Through the bundled CLI of `serve`: this listing used a dynamic import() that its vm.Script cannot run.
    const modules = await api.call('sources.modules', { reference: up.path });
    expect(modules).toMatchObject({ reference: up.path, kind: 'bundle', platform: 'vita' });
    expect(modules.modules.map((m) => m.name)).toContain('flight-memory-validation');
    const report = await api.call('wasm.check', { target: up.path, platforms: ['vita'] });
    expect(report.inputKind).toBe('bundle');
    expect(report.modules.length).toBe(modules.modules.length);
    expect(report.platforms[0]!.fits).toBe(true);
  });

  it('refuses a wrong sha256 at finish and keeps nothing', async () => {
    const bytes = wasm.subarray(0, 3000);
    const { upload } = await api.call('files.upload.begin', { name: 'x.wasm', size: bytes.length });
    await api.call('files.upload.chunk', { upload, offset: 0, data: bytes.toString('base64') });
    const before = left();
    const err = await api.call('files.upload.finish', { upload, sha256: hex(Buffer.from('something else')) }).catch((e: unknown) => e as ApiError);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('BLOB_DIGEST_MISMATCH');
    expect((err as ApiError).message).toContain('x.wasm');
    expect(before.some((f) => f.endsWith('.part'))).toBe(true);
    expect(left().filter((f) => f.endsWith('.part') || f.includes(hex(bytes)))).toEqual([]);
    // The upload is gone: a late chunk is NOT_FOUND.
    expect(await code(api.call('files.upload.chunk', { upload, offset: bytes.length, data: '' }))).toBe('NOT_FOUND');
  });

  it('refuses a chunk out of order (the upload goes on from where it was), and a file over the cap before any byte', async () => {
    const bytes = wasm.subarray(0, 2048);
    const { upload } = await api.call('files.upload.begin', { name: 'order.wasm', size: bytes.length });
    await api.call('files.upload.chunk', { upload, offset: 0, data: bytes.subarray(0, 1024).toString('base64') });
    const err = await api
      .call('files.upload.chunk', { upload, offset: 1536, data: bytes.subarray(1536).toString('base64') })
      .catch((e: unknown) => e as ApiError);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    expect((err as ApiError).message).toMatch(/at byte 1536, but 1024 bytes came so far/);
    await api.call('files.upload.chunk', { upload, offset: 1024, data: bytes.subarray(1024).toString('base64') });
    const done = await api.call('files.upload.finish', { upload, sha256: hex(bytes) });
    expect(readFileSync(done.path).equals(bytes)).toBe(true);

    const over = await api.call('files.upload.begin', { name: 'huge.tar', size: UPLOAD_MAX_BYTES + 1 }).catch((e: unknown) => e as ApiError);
    expect(over).toMatchObject({ code: 'INVALID_INPUT' });
    expect((over as ApiError).message).toMatch(/huge\.tar is .* over the 1 GiB cap/);
    expect((over as ApiError).hint).toContain('Type the file’s path');
    expect(left().filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a cancel part-way (the chunk under way included) leaves no file behind', async () => {
    const other = dataModule(3 * 1024 * 1024, undefined, 7);
    const cancel = new AbortController();
    // Cancel right after the second chunk went out: the host is writing it (or has) when the cancel comes.
    onSent = (frame) => {
      if (frame.includes('"files.upload.chunk"') && !frame.includes('"offset":0,')) queueMicrotask(() => cancel.abort());
    };
    const err = await uploadFile(api, file(other, 'cancelled.wasm'), { signal: cancel.signal }).catch((e: unknown) => e as ApiError);
    onSent = undefined;
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(left().filter((f) => f.endsWith('.part') || f.includes(hex(other)))).toEqual([]);
    // The host is still fine: the next upload goes through.
    const small = wasm.subarray(0, 100);
    const { upload } = await api.call('files.upload.begin', { name: 's.wasm', size: small.length });
    await api.call('files.upload.chunk', { upload, offset: 0, data: small.toString('base64') });
    expect((await api.call('files.upload.finish', { upload, sha256: hex(small) })).size).toBe(100);
    expect(serve.exited()).toBe(false);
  });
});
