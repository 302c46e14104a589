import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { createUploads, safeUploadName } from '../../../../core/uploads/uploads.js';
import { tempHome } from '../../../support/cli.js';

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('uploads (a local file handed to the app in chunks)', () => {
  it('keeps a whole, verified file under a safe name inside the uploads folder', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    const up = createUploads(paths, { maxBytes: 1000 });
    const bytes = Buffer.from('\0asm\x01\0\0\0');
    const { upload } = await up.begin('../../../etc/evil.wasm', bytes.length);
    await up.chunk(upload, 0, bytes.subarray(0, 4).toString('base64'));
    await expect(up.chunk(upload, 0, bytes.subarray(4).toString('base64'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await up.chunk(upload, 4, bytes.subarray(4).toString('base64'));
    const done = await up.finish(upload, hex(bytes));
    expect(done.name).toBe('evil.wasm');
    expect(path.relative(up.dir, done.path)).toBe(path.join(hex(bytes), 'evil.wasm'));
    expect(readFileSync(done.path)).toEqual(bytes);
    expect(readdirSync(up.dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('refuses a file over the cap, extra bytes and a wrong digest, and keeps nothing', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    const up = createUploads(paths, { maxBytes: 8 });
    await expect(up.begin('big.wasm', 9)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const a = await up.begin('a.wasm', 2);
    await expect(up.chunk(a.upload, 0, Buffer.from('abc').toString('base64'))).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    const b = await up.begin('b.wasm', 2);
    await up.chunk(b.upload, 0, Buffer.from('ab').toString('base64'));
    await expect(up.finish(b.upload, hex(Buffer.from('xy')))).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    const c = await up.begin('c.wasm', 2);
    await expect(up.finish(c.upload, hex(Buffer.from('ab')))).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    expect(readdirSync(up.dir)).toEqual([]);
  });

  it('abort while a chunk is being written waits for it, then removes the bytes; a cancelled chunk gives the upload up', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    const up = createUploads(paths);
    const bytes = Buffer.alloc(1024 * 1024, 7);
    const a = await up.begin('a.wasm', bytes.length * 2);
    // The abort arrives while the chunk's write is under way (same tick): it must not leave the temp file.
    const writing = up.chunk(a.upload, 0, bytes.toString('base64'));
    const aborted = up.abort(a.upload);
    await writing;
    await aborted;
    expect(readdirSync(up.dir)).toEqual([]);
    await expect(up.chunk(a.upload, bytes.length, bytes.toString('base64'))).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const b = await up.begin('b.wasm', bytes.length * 2);
    const cancel = new AbortController();
    const pending = up.chunk(b.upload, 0, bytes.toString('base64'), cancel.signal);
    cancel.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(readdirSync(up.dir)).toEqual([]);
  });

  it('removes uploads older than a day when the next begins', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    const up = createUploads(paths);
    const old = path.join(up.dir, 'a'.repeat(64));
    mkdirSync(old, { recursive: true });
    writeFileSync(path.join(old, 'x.wasm'), 'x');
    const past = new Date(Date.now() - 3 * 24 * 3600 * 1000);
    utimesSync(old, past, past);
    await up.begin('y.wasm', 1);
    expect(existsSync(old)).toBe(false);
  });

  it('names files safely', () => {
    expect(safeUploadName('..')).toBe('upload');
    expect(safeUploadName('C:\\x\\..\\a b.tar.gz')).toBe('a_b.tar.gz');
    expect(safeUploadName('.hidden')).toBe('hidden');
    expect(safeUploadName('x'.repeat(300) + '.tar.gz')).toHaveLength(128);
  });
});
