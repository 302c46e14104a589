import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobWriter, OciLayout } from '../../../../core/oci/layout.js';
import { newStore, storeFiles, tempDir } from '../../../support/oci.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const desc = (b: Buffer) => ({ mediaType: 'application/octet-stream', digest: sha(b), size: b.length });

describe('OciLayout and BlobWriter', () => {
  it('creates a valid layout and refuses a folder that is not one', async () => {
    const store = await newStore();
    expect(JSON.parse(readFileSync(path.join(store.root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(readFileSync(path.join(store.root, 'index.json'), 'utf8'))).toMatchObject({ schemaVersion: 2, manifests: [] });
    await expect(OciLayout.open(tempDir(), { create: false })).rejects.toMatchObject({ code: 'LAYOUT_INVALID' });
  });

  it('stores verified bytes via temp file + rename', async () => {
    const store = await newStore();
    const data = Buffer.from('hello flight deck');
    const w = new BlobWriter(store, desc(data));
    await w.prepare({ resume: false });
    await w.write([data.subarray(0, 5), data.subarray(5)]);
    expect(existsSync(w.partial)).toBe(true);
    await w.commit();
    expect(readFileSync(store.blobPath(sha(data))).equals(data)).toBe(true);
    expect(storeFiles(store).ingest).toEqual([]);
    expect(await store.has(desc(data))).toBe(true);
  });

  it('refuses wrong bytes, too many bytes and too few, leaving nothing', async () => {
    const store = await newStore();
    const data = Buffer.from('0123456789');
    const wrong = new BlobWriter(store, desc(data));
    await wrong.prepare({ resume: false });
    await wrong.write([Buffer.from('9876543210')]);
    await expect(wrong.commit()).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    const long = new BlobWriter(store, desc(data));
    await long.prepare({ resume: false });
    await expect(long.write([data, Buffer.from('x')])).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    await long.discard();
    const short = new BlobWriter(store, desc(data));
    await short.prepare({ resume: false });
    await short.write([data.subarray(0, 4)]);
    await expect(short.commit()).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    expect(storeFiles(store)).toEqual({ blobs: [], ingest: [] });
  });

  it('resumes from a partial file by re-hashing it, and restarts when asked', async () => {
    const store = await newStore();
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    mkdirSync(store.ingestDir(), { recursive: true });
    writeFileSync(path.join(store.ingestDir(), `${sha(data).slice(7)}.partial`), data.subarray(0, 10));
    const w = new BlobWriter(store, desc(data));
    expect(await w.prepare({ resume: true })).toBe(10);
    await w.write([data.subarray(10)]);
    await w.commit();
    expect(readFileSync(store.blobPath(sha(data))).equals(data)).toBe(true);
  });

  it('tags and resolves index entries atomically, replacing an older entry of the same name', async () => {
    const store = await newStore();
    const a = Buffer.from('{"a":1}');
    const b = Buffer.from('{"b":2}');
    await store.putBytes(sha(a), a);
    await store.putBytes(sha(b), b);
    await Promise.all([store.tag({ ...desc(a), mediaType: 'x' }, 'r:1'), store.tag({ ...desc(b), mediaType: 'x' }, 'r:2')]);
    await store.tag({ ...desc(b), mediaType: 'x' }, 'r:1');
    const { manifests } = await store.readIndex();
    expect(manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest]).sort()).toEqual([
      ['r:1', sha(b)],
      ['r:2', sha(b)],
    ]);
    expect((await store.resolve({ tag: 'r:2' })).digest).toBe(sha(b));
    await expect(store.resolve({ tag: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.putBytes(sha(a), b)).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
  });

  it('detects a corrupted blob on read', async () => {
    const store = await newStore();
    const a = Buffer.from('{"a":1}');
    await store.putBytes(sha(a), a);
    writeFileSync(store.blobPath(sha(a)), '{"a":2}');
    await expect(store.readBlob(sha(a))).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
  });
});

describe('verified reads and quarantine', () => {
  const big = Buffer.alloc(2.5 * 1024 * 1024 + 17, 7);
  const contentStore = async () => OciLayout.open(path.join(tempDir('fd-store-'), 'store'), { create: true, store: true });
  const put = async (store: OciLayout, bytes: Buffer) => {
    const w = new BlobWriter(store, desc(bytes));
    await w.prepare({ resume: false });
    await w.write([bytes]);
    await w.commit();
  };
  const flip = (file: string) => {
    const b = readFileSync(file);
    b[b.length - 1]! ^= 1; // the very last byte: a consumer must not get it
    writeFileSync(file, b);
  };

  it('streams an intact blob whole; a corrupt one fails before its last chunk is released, and is quarantined', async () => {
    const store = await contentStore();
    await put(store, big);
    const whole = await store.withBlob(desc(big), async (chunks) => {
      const got: Buffer[] = [];
      for await (const c of chunks) got.push(c);
      return Buffer.concat(got);
    });
    expect(whole.equals(big)).toBe(true);
    flip(store.blobPath(sha(big)));
    let received = 0;
    const err = await store
      .withBlob(desc(big), async (chunks) => {
        for await (const c of chunks) received += c.length;
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BLOB_CORRUPT', details: { digest: sha(big) } });
    // The damaged last byte is in the held-back chunk: it never reached the consumer.
    expect(received).toBeLessThan(big.length);
    expect(received).toBeGreaterThan(0);
    expect(await store.has(desc(big))).toBe(false);
    expect(await store.listQuarantined()).toMatchObject([{ digest: sha(big) }]);
    expect(readFileSync(path.join(store.root, 'quarantine', `sha256-${sha(big).slice(7)}`)).length).toBe(big.length);
  });

  it('a consumer that fails or stops early on a corrupt blob still ends in BLOB_CORRUPT; on an intact one keeps its own error', async () => {
    const store = await contentStore();
    await put(store, big);
    const stopEarly = async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) return c.length;
      return 0;
    };
    const parserError = async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) throw new Error(`bad byte at ${c.length}`);
    };
    expect(await store.withBlob(desc(big), stopEarly)).toBe(1024 * 1024);
    await expect(store.withBlob(desc(big), parserError)).rejects.toThrow(/bad byte/);
    flip(store.blobPath(sha(big)));
    await expect(store.withBlob(desc(big), stopEarly)).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    await put(store, big);
    flip(store.blobPath(sha(big)));
    await expect(store.withBlob(desc(big), parserError)).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
  });

  it('verifyStored (the pull skip check) hashes: false and quarantined when corrupt; a folder is never quarantined', async () => {
    const store = await contentStore();
    await put(store, big);
    expect(await store.verifyStored(desc(big))).toBe(true);
    flip(store.blobPath(sha(big)));
    expect(await store.verifyStored(desc(big))).toBe(false);
    expect(existsSync(store.blobPath(sha(big)))).toBe(false);
    const folder = await newStore();
    await put(folder, big);
    flip(folder.blobPath(sha(big)));
    await expect(folder.readBlobVerified(desc(big))).rejects.toMatchObject({
      code: 'BLOB_CORRUPT',
      hint: expect.stringContaining(`The folder ${folder.root} is damaged`),
    });
    expect(existsSync(folder.blobPath(sha(big)))).toBe(true);
    expect(existsSync(folder.quarantineDir())).toBe(false);
  });

  it('readBlobVerified (deploy) refuses a flipped byte, a longer and a shorter file', async () => {
    const store = await contentStore();
    for (const damage of [
      (b: Buffer) => ((b[7] = b[7]! ^ 1), b),
      (b: Buffer) => Buffer.concat([b, Buffer.from([0])]),
      (b: Buffer) => b.subarray(0, b.length - 1),
    ]) {
      await put(store, big);
      expect((await store.readBlobVerified(desc(big))).equals(big)).toBe(true);
      writeFileSync(store.blobPath(sha(big)), damage(Buffer.from(big)));
      await expect(store.readBlobVerified(desc(big))).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
      expect(await store.has({ digest: sha(big) })).toBe(false);
    }
  });

  it('does not quarantine a good copy another process renamed into place after the corrupt one was read', async () => {
    const store = await contentStore();
    await put(store, big);
    flip(store.blobPath(sha(big)));
    const reading = store.openBlob(desc(big));
    const it = reading[Symbol.asyncIterator]();
    await it.next(); // the corrupt file is open
    // Meanwhile a pull in another process stores a good copy (a new inode renamed over the old one).
    const fresh = `${store.blobPath(sha(big))}.new`;
    writeFileSync(fresh, big);
    const { renameSync } = await import('node:fs');
    renameSync(fresh, store.blobPath(sha(big)));
    await expect(reading.finish()).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    await reading.close();
    expect(readFileSync(store.blobPath(sha(big))).equals(big)).toBe(true);
    expect(await store.listQuarantined()).toEqual([]);
  });
});
