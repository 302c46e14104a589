/**
 * An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`): the content store under
 * the data dir, and any `oci:<dir>` reference. Blobs enter only through `BlobWriter`, which hashes while
 * writing to `ingest/<hex>.partial`, enforces the declared size, fsyncs and renames into `blobs/`; so a
 * file under `blobs/` has always been verified.
 *
 * Several processes may share one layout (CLI, web host, app, a fleet deploy). A resumable partial is
 * written only by the holder of its lock `ingest/<hex>.lock` (core/oci/lock.ts, taken by pull.ts);
 * bytes already in memory go through a partial of their own (`ingest/<hex>.<unique>.tmp`); index.json
 * is read-modified-written under `index.json.lock`. Renaming verified bytes over a blob another process
 * stored meanwhile is harmless: both are the same verified content.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, stat, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { withLock } from './lock.js';
import { parseDigest } from './reference.js';
import { parseDescriptor, ANNOTATION_REF_NAME, MANIFEST_MAX_BYTES, type Descriptor } from './manifest.js';

export const ANNOTATION_PULLED_AT = 'io.flightdeck.pulled-at';
const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

/** Map a file-system error to DISK_FULL / IO_ERROR naming the path. */
export function fsError(err: unknown, what: string): FlightDeckError {
  if (err instanceof FlightDeckError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new FlightDeckError('DISK_FULL', `No space left while writing ${what}.`, { cause: err, details: { path: what } });
  }
  return new FlightDeckError('IO_ERROR', `Cannot write ${what}: ${(err as Error).message}`, { cause: err, details: { path: what } });
}

export interface IndexEntry extends Descriptor {
  annotations?: Record<string, string>;
}

export class OciLayout {
  readonly root: string;
  private indexLock: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Open an existing layout (LAYOUT_INVALID when it is not one) or create it. */
  static async open(root: string, opts: { create: boolean }): Promise<OciLayout> {
    const layout = new OciLayout(root);
    let text: string | undefined;
    try {
      text = await readFile(path.join(layout.root, 'oci-layout'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, layout.root);
    }
    if (text === undefined) {
      if (!opts.create) {
        throw new FlightDeckError('LAYOUT_INVALID', `${layout.root} is not an OCI image layout (no oci-layout file).`, { details: { path: layout.root } });
      }
      try {
        await mkdir(path.join(layout.root, 'blobs', 'sha256'), { recursive: true });
        await writeFile(path.join(layout.root, 'oci-layout'), LAYOUT_FILE);
        await writeFile(path.join(layout.root, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }), { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
      } catch (err) {
        throw fsError(err, layout.root);
      }
      return layout;
    }
    try {
      const json = JSON.parse(text) as { imageLayoutVersion?: unknown };
      if (typeof json.imageLayoutVersion !== 'string') throw new Error('imageLayoutVersion missing');
    } catch (err) {
      throw new FlightDeckError('LAYOUT_INVALID', `${path.join(layout.root, 'oci-layout')} is not valid: ${(err as Error).message}.`, { cause: err });
    }
    return layout;
  }

  /** Path of a blob; the digest is validated first so it can never name a path outside blobs/. */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.root, 'blobs', algorithm, hex);
  }

  async has(desc: { digest: string; size?: number }): Promise<boolean> {
    try {
      const st = await stat(this.blobPath(desc.digest));
      return st.isFile() && (desc.size === undefined || st.size === desc.size);
    } catch {
      return false;
    }
  }

  /** Read a small blob (manifest, config) fully; verifies its digest. */
  async readBlob(digest: string, maxBytes = MANIFEST_MAX_BYTES): Promise<Buffer> {
    const file = this.blobPath(digest);
    let st;
    try {
      st = await stat(file);
    } catch {
      throw new FlightDeckError('NOT_FOUND', `Blob ${digest} is not in ${this.root}.`, { details: { digest } });
    }
    if (st.size > maxBytes) throw new FlightDeckError('MANIFEST_TOO_LARGE', `Blob ${digest} in ${this.root} is ${st.size} bytes, over the ${maxBytes}-byte cap.`);
    const bytes = await readFile(file);
    const { algorithm } = parseDigest(digest);
    const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (actual !== digest) {
      throw new FlightDeckError('BLOB_DIGEST_MISMATCH', `Blob ${digest} in ${this.root} is corrupt (hashes to ${actual}).`, {
        hint: 'Run `flightdeck cache verify --fix` and pull again.',
      });
    }
    return bytes;
  }

  /** Store bytes already in memory (manifests) after checking their digest. */
  async putBytes(digest: string, bytes: Uint8Array): Promise<void> {
    const { algorithm } = parseDigest(digest);
    const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (actual !== digest) {
      throw new FlightDeckError('BLOB_DIGEST_MISMATCH', `Content for ${digest} hashes to ${actual}; nothing was stored.`, { details: { digest, actual } });
    }
    if (await this.has({ digest, size: bytes.byteLength })) {
      await this.touchBlob(digest);
      return;
    }
    const w = new BlobWriter(this, { digest, size: bytes.byteLength, mediaType: 'application/octet-stream' }, { unique: true });
    await w.prepare({ resume: false });
    try {
      await w.write([Buffer.from(bytes)]);
      await w.commit();
    } catch (err) {
      await w.discard();
      throw err;
    }
  }

  async readIndex(): Promise<{ manifests: IndexEntry[]; raw: Record<string, unknown> }> {
    const file = path.join(this.root, 'index.json');
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new FlightDeckError('LAYOUT_INVALID', `${file} is missing or not JSON: ${(err as Error).message}.`, { cause: err });
    }
    const list = Array.isArray(raw.manifests) ? raw.manifests : [];
    return { raw, manifests: list.map((d, i) => parseDescriptor(d, `${file} manifests[${i}]`) as IndexEntry) };
  }

  /**
   * Read-modify-write index.json atomically (temp + fsync + rename), one writer at a time: in this
   * process by a promise chain, across processes by the lock `index.json.lock`.
   */
  async updateIndex(change: (entries: IndexEntry[]) => IndexEntry[]): Promise<void> {
    const indexFile = path.join(this.root, 'index.json');
    const run = this.indexLock.then(() =>
      withLock(indexFile, `${indexFile}.lock`, async () => {
        const { raw, manifests } = await this.readIndex();
        const next = { ...raw, schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: change(manifests) };
        await writeFileAtomic(indexFile, JSON.stringify(next, null, 2)).catch((err: unknown) => {
          throw fsError(err, indexFile);
        });
      }),
    );
    this.indexLock = run.catch(() => {});
    return run;
  }

  /** Point `refName` at `desc` (replacing an older entry with the same name). */
  async tag(desc: Descriptor, refName: string, extra: Record<string, string> = {}): Promise<void> {
    await this.updateIndex((entries) => [
      ...entries.filter((e) => e.annotations?.[ANNOTATION_REF_NAME] !== refName),
      {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        ...(desc.artifactType ? { artifactType: desc.artifactType } : {}),
        annotations: { ...extra, [ANNOTATION_REF_NAME]: refName },
      },
    ]);
  }

  /** Resolve a tag (ref.name annotation) or digest to an index entry. */
  async resolve(target: { tag?: string | undefined; digest?: string | undefined }): Promise<IndexEntry> {
    const { manifests } = await this.readIndex();
    const found = target.digest
      ? manifests.find((e) => e.digest === target.digest)
      : target.tag
        ? manifests.find((e) => e.annotations?.[ANNOTATION_REF_NAME] === target.tag)
        : manifests.length === 1
          ? manifests[0]
          : undefined;
    if (found) return found;
    if (target.digest && (await this.has({ digest: target.digest }))) {
      return { mediaType: '', digest: target.digest, size: (await stat(this.blobPath(target.digest))).size };
    }
    const what = target.digest ?? target.tag ?? '(no tag)';
    throw new FlightDeckError('NOT_FOUND', `${what} is not in the layout ${this.root}.`, {
      hint: manifests.length > 1 && !target.tag && !target.digest ? 'The layout holds several manifests: name one with :tag or @digest.' : undefined,
      details: { reference: what },
    });
  }

  /** Every blob file (algorithm, hex, size). */
  async listBlobs(): Promise<Array<{ digest: string; file: string; size: number; mtimeMs: number }>> {
    const out: Array<{ digest: string; file: string; size: number; mtimeMs: number }> = [];
    for (const algorithm of ['sha256', 'sha512']) {
      const dir = path.join(this.root, 'blobs', algorithm);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const hex of names) {
        const file = path.join(dir, hex);
        const st = await stat(file).catch(() => undefined);
        if (st?.isFile()) out.push({ digest: `${algorithm}:${hex}`, file, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  ingestDir(): string {
    return path.join(this.root, 'ingest');
  }

  /** The resumable partial download of a blob, and the lock its writer holds (core/oci/lock.ts). */
  partialPath(digest: string): { partial: string; lock: string } {
    const { hex } = parseDigest(digest);
    return { partial: path.join(this.ingestDir(), `${hex}.partial`), lock: path.join(this.ingestDir(), `${hex}.lock`) };
  }

  /**
   * Mark a blob as just used (mtime now), so a concurrent `cache prune` treats it as young: a pull that
   * finds a blob already stored touches it before tagging the manifest that needs it.
   */
  async touchBlob(digest: string): Promise<void> {
    const now = new Date();
    await utimes(this.blobPath(digest), now, now).catch(() => {});
  }
}

export async function hashFile(file: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}

const FLUSH_BYTES = 1024 * 1024;

/**
 * Writes one blob: hashes every byte on the way to `ingest/<hex>.partial`, refuses more bytes than
 * declared, and on commit checks size and digest, fsyncs and renames into `blobs/`. A partial file left
 * by an interrupted run is re-hashed and resumed from its end. The caller holds the partial's lock
 * (`OciLayout.partialPath`); with `unique` the writer uses a partial no other writer can name instead
 * (`ingest/<hex>.<pid>-<random>.tmp`, never resumed), for bytes that need no lock.
 */
export class BlobWriter {
  readonly partial: string;
  private fh: FileHandle | undefined;
  private hash: Hash;
  private readonly algorithm: string;
  /** Bytes written (and hashed) so far. */
  offset = 0;

  constructor(
    private readonly layout: OciLayout,
    readonly desc: Descriptor,
    opts: { unique?: boolean } = {},
  ) {
    const { algorithm, hex } = parseDigest(desc.digest);
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
    this.partial = opts.unique
      ? path.join(layout.ingestDir(), `${hex}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
      : layout.partialPath(desc.digest).partial;
  }

  /** Open the partial file; with `resume`, keep and re-hash bytes already there. Returns the offset. */
  async prepare(opts: { resume: boolean }): Promise<number> {
    try {
      await mkdir(this.layout.ingestDir(), { recursive: true });
      await this.fh?.close();
      this.hash = createHash(this.algorithm);
      this.offset = 0;
      if (opts.resume) {
        const st = await stat(this.partial).catch(() => undefined);
        if (st?.isFile() && st.size > 0 && st.size <= this.desc.size) {
          for await (const chunk of createReadStream(this.partial, { highWaterMark: FLUSH_BYTES })) this.hash.update(chunk as Buffer);
          this.offset = st.size;
          this.fh = await open(this.partial, 'a');
          return this.offset;
        }
      }
      this.fh = await open(this.partial, 'w');
      return 0;
    } catch (err) {
      throw fsError(err, this.partial);
    }
  }

  /** Write chunks from any (async) iterable; throws BLOB_SIZE_MISMATCH as soon as the size is exceeded. */
  async write(source: AsyncIterable<Buffer> | Iterable<Buffer>, onBytes?: (n: number) => void): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new FlightDeckError('INTERNAL', 'BlobWriter.write before prepare');
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // A source that lends its read buffers (core/oci/http1.ts) gets them back once they are on disk.
    const recycle = (source as { recycle?: (chunks: readonly Buffer[]) => void }).recycle?.bind(source);
    const flush = async () => {
      if (pendingBytes === 0) return;
      const bufs = pending;
      const total = pendingBytes;
      pending = [];
      pendingBytes = 0;
      try {
        // writev may write less than asked (a signal, a nearly full disk): write the rest until done.
        let written = (await fh.writev(bufs)).bytesWritten;
        if (written < total) {
          const rest = Buffer.concat(bufs).subarray(written);
          for (let off = 0; off < rest.length; off += written) {
            written = (await fh.write(rest, off)).bytesWritten;
            if (written === 0) throw Object.assign(new Error('the file system accepted no more bytes'), { code: 'ENOSPC' });
          }
        }
      } catch (err) {
        throw fsError(err, this.partial);
      }
      recycle?.(bufs);
    };
    try {
      for await (const chunk of source) {
        if (this.offset + chunk.length > this.desc.size) {
          throw new FlightDeckError('BLOB_SIZE_MISMATCH', `Blob ${this.desc.digest} is longer than its declared ${this.desc.size} bytes.`, {
            details: { digest: this.desc.digest, expected: this.desc.size },
          });
        }
        this.hash.update(chunk);
        this.offset += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= FLUSH_BYTES) await flush();
        onBytes?.(chunk.length);
      }
    } finally {
      // Bytes hashed so far reach the file even when the source fails, so a resume starts after them.
      await flush();
    }
  }

  /** Flush what was written so far (before a resume attempt). */
  async sync(): Promise<void> {
    await this.fh?.sync().catch(() => {});
  }

  /**
   * Verify size and digest, fsync, rename into blobs/. On mismatch the partial file is removed.
   * `verified` runs once size and digest are right, before the fsync.
   */
  async commit(verified?: () => void): Promise<void> {
    const { desc } = this;
    if (this.offset !== desc.size) {
      await this.discard();
      throw new FlightDeckError('BLOB_SIZE_MISMATCH', `Blob ${desc.digest} ended after ${this.offset} of ${desc.size} bytes.`, {
        details: { digest: desc.digest, expected: desc.size, received: this.offset },
      });
    }
    const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (actual !== desc.digest) {
      await this.discard();
      throw new FlightDeckError('BLOB_DIGEST_MISMATCH', `Blob ${desc.digest} hashed to ${actual}; nothing was stored.`, {
        details: { digest: desc.digest, actual },
      });
    }
    verified?.();
    const target = this.layout.blobPath(desc.digest);
    try {
      await this.fh?.sync();
      await this.fh?.close();
      this.fh = undefined;
      await mkdir(path.dirname(target), { recursive: true });
      await rename(this.partial, target);
    } catch (err) {
      await this.discard();
      // Another process stored the same blob meanwhile (and e.g. Windows refuses to replace a file that is
      // open): its bytes were verified as well, so the blob is stored.
      if (await this.layout.has(desc)) return;
      throw fsError(err, target);
    }
  }

  /** Close and delete the partial file. */
  async discard(): Promise<void> {
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await unlink(this.partial).catch(() => {});
  }

  /** Close, keeping the partial file for a later resume (cancel, network failure); an empty one goes. */
  async keep(): Promise<void> {
    await this.fh?.sync().catch(() => {});
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    if (this.offset === 0) await unlink(this.partial).catch(() => {});
  }
}
