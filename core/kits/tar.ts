/**
 * Kit archives: a deterministic ustar writer (entries sorted by name, owner 0:0, fixed modes, one fixed
 * mtime, no user or group names), and a safe extractor into a staging directory that accepts only the
 * files of an OCI image layout (`oci-layout`, `index.json`, `kit-lock.json`, `blobs/sha256/<hex>`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { fsError, type BlobCopy } from '../oci/layout.js';
import { walkPlainTar, DEFAULT_BUNDLE_LIMITS } from '../wasm/bundle.js';

export const KIT_LOCK_FILE = 'kit-lock.json';
const METADATA = new Set(['oci-layout', 'index.json', KIT_LOCK_FILE]);
const BLOB_ENTRY = /^blobs\/sha256\/([a-f0-9]{64})$/;
const MAX_METADATA = 16 * 1024 * 1024;

export interface TarSource {
  name: string;
  /** A regular file on disk, or bytes; absent for a directory entry (name ends with `/`). */
  file?: string;
  bytes?: Buffer;
  /** A verified reader (OciLayout.withBlob): runs `use` over the bytes, fails when they are corrupt. */
  read?: (use: (chunks: AsyncIterable<Buffer>) => Promise<void>) => Promise<void>;
  size: number;
}

function header(name: string, size: number, dir: boolean, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new FlightDeckError('INTERNAL', `tar entry name ${name} is longer than 100 bytes`);
  const h = Buffer.alloc(512);
  const put = (offset: number, len: number, value: string) => h.write(value, offset, len, 'utf8');
  const num = (offset: number, len: number, n: number) => put(offset, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, name);
  num(100, 8, dir ? 0o755 : 0o644);
  num(108, 8, 0);
  num(116, 8, 0);
  num(124, 12, size);
  num(136, 12, mtime);
  put(148, 8, '        ');
  put(156, 1, dir ? '5' : '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/**
 * Write `entries` (sorted here) as a tar file: temp file, fsync, rename. Returns the file's sha256 digest.
 * `mtime` is seconds since the epoch, the same for every entry.
 */
export async function writeTar(file: string, entries: TarSource[], mtime: number): Promise<string> {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  const fh = await open(tmp, 'wx').catch((err: unknown) => {
    throw fsError(err, file);
  });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    await fh.writev(pending);
    pending = [];
    pendingBytes = 0;
  };
  const put = async (b: Buffer) => {
    hash.update(b);
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= 1024 * 1024) await flush();
  };
  try {
    for (const e of sorted) {
      const dir = e.name.endsWith('/');
      await put(header(e.name, dir ? 0 : e.size, dir, mtime));
      if (dir) continue;
      let written = 0;
      if (e.bytes) {
        await put(e.bytes);
        written = e.bytes.length;
      } else if (e.read) {
        await e.read(async (chunks) => {
          for await (const chunk of chunks) {
            await put(chunk);
            written += chunk.length;
          }
        });
      } else if (e.file) {
        for await (const chunk of createReadStream(e.file, { highWaterMark: 1024 * 1024 })) {
          await put(chunk as Buffer);
          written += (chunk as Buffer).length;
        }
      }
      if (written !== e.size) throw new FlightDeckError('BLOB_SIZE_MISMATCH', `${e.file ?? e.name} has ${written} bytes, expected ${e.size}.`);
      if (e.size % 512) await put(Buffer.alloc(512 - (e.size % 512)));
    }
    await put(Buffer.alloc(1024));
    await flush();
    await fh.sync();
    await fh.close();
    await rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw fsError(err, file);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A kit tar written in place: the same bytes as `writeTar` for the same entries, but the blob entries'
 * places are known before their bytes (every size is), so blobs are written at their offsets in any
 * order: from the download's own verified stream while the store is filled (`copyFor`, a BlobCopy), or
 * through the store's verified read (`fill`). `finish` adds the metadata entries (they sort after every
 * `blobs/` entry), hashes the file in one sequential pass for the kit digest, fsyncs and renames it.
 * Until then the kit exists only as a temp file beside it, which `abort` removes.
 */
export class InPlaceTar {
  private readonly slots = new Map<string, { offset: number; size: number }>();
  private readonly filled = new Set<string>();
  private end = 0;

  private constructor(
    readonly file: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly mtime: number,
  ) {}

  /** Lay out the directory and blob entries (sorted by name, as writeTar sorts) and write their headers. */
  static async create(file: string, entries: Array<{ name: string; size: number }>, mtime: number): Promise<InPlaceTar> {
    const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx+').catch((err: unknown) => {
      throw fsError(err, file);
    });
    const tar = new InPlaceTar(file, tmp, fh, mtime);
    try {
      const headers: Array<[Buffer, number]> = [];
      for (const e of [...entries].sort(byName)) {
        const dir = e.name.endsWith('/');
        headers.push([header(e.name, dir ? 0 : e.size, dir, mtime), tar.end]);
        tar.end += 512;
        if (dir) continue;
        tar.slots.set(e.name, { offset: tar.end, size: e.size });
        tar.end += e.size + padding(e.size);
      }
      for (const [h, at] of headers) await writeAt(fh, [h], at, tmp);
    } catch (err) {
      await tar.abort();
      throw fsError(err, file);
    }
    return tar;
  }

  private slot(name: string): { offset: number; size: number } {
    const slot = this.slots.get(name);
    if (!slot) throw new FlightDeckError('INTERNAL', `the kit tar has no entry ${name}`);
    return slot;
  }

  /** A BlobCopy that writes entry `name`'s bytes at its place; the entry counts as filled once verified. */
  copyFor(name: string): BlobCopy {
    const { offset, size } = this.slot(name);
    let at = 0;
    return {
      open: async () => {
        at = 0;
      },
      write: async (bufs, total) => {
        if (at + total > size) throw new FlightDeckError('BLOB_SIZE_MISMATCH', `${name} is longer than its ${size} bytes.`);
        await writeAt(this.fh, bufs, offset + at, this.tmp);
        at += total;
      },
      // The whole tar is fsynced once, in finish.
      commit: async () => {},
      drop: async () => {},
      verified: () => {
        if (at === size) this.filled.add(name);
      },
    };
  }

  /** Whether the tar has a blob entry `name`. */
  accepts(name: string): boolean {
    return this.slots.has(name);
  }

  /** Whether entry `name` already holds verified bytes (from copyFor). */
  has(name: string): boolean {
    return this.filled.has(name);
  }

  /** Write entry `name` from a verified reader (OciLayout.withBlob). */
  async fill(name: string, read: (use: (chunks: AsyncIterable<Buffer>) => Promise<void>) => Promise<void>): Promise<void> {
    const { offset, size } = this.slot(name);
    let at = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batchBytes === 0) return;
      await writeAt(this.fh, batch, offset + at - batchBytes, this.tmp);
      batch = [];
      batchBytes = 0;
    };
    await read(async (chunks) => {
      for await (const chunk of chunks) {
        if (at + chunk.length > size) throw new FlightDeckError('BLOB_SIZE_MISMATCH', `${name} is longer than its ${size} bytes.`);
        batch.push(chunk);
        batchBytes += chunk.length;
        at += chunk.length;
        if (batchBytes >= 1024 * 1024) await flush();
      }
      await flush();
    });
    if (at !== size) throw new FlightDeckError('BLOB_SIZE_MISMATCH', `${name} has ${at} bytes, expected ${size}.`);
    this.filled.add(name);
  }

  /**
   * Append the metadata entries and the end marker, hash, fsync, and put the temp file in place: `place`
   * (core/kits/output.ts, which may verify it first), else a rename. Returns the file's sha256 digest.
   */
  async finish(meta: Array<{ name: string; bytes: Buffer }>, place?: (tmp: string) => Promise<void>): Promise<string> {
    const hash = createHash('sha256');
    try {
      const missing = [...this.slots.keys()].filter((n) => !this.filled.has(n));
      if (missing.length) throw new FlightDeckError('INTERNAL', `kit tar entries not written: ${missing.join(', ')}`);
      const last = [...this.slots.keys()].sort().pop();
      const tail: Buffer[] = [];
      for (const m of [...meta].sort(byName)) {
        if (last !== undefined && byName(m, { name: last }) <= 0) throw new FlightDeckError('INTERNAL', `${m.name} does not sort after ${last}`);
        tail.push(header(m.name, m.bytes.length, false, this.mtime), m.bytes, Buffer.alloc(padding(m.bytes.length)));
      }
      tail.push(Buffer.alloc(1024));
      // Blob padding: written explicitly (holes read as zeros too, but the bytes are the kit's).
      for (const { offset, size } of this.slots.values()) if (padding(size)) await writeAt(this.fh, [Buffer.alloc(padding(size))], offset + size, this.tmp);
      await writeAt(this.fh, tail, this.end, this.tmp);
      const total = this.end + tail.reduce((a, b) => a + b.length, 0);
      const buf = Buffer.allocUnsafe(1024 * 1024);
      for (let at = 0; at < total;) {
        const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, total - at), at);
        if (bytesRead === 0) throw new FlightDeckError('IO_ERROR', `${this.tmp} ended after ${at} of ${total} bytes while hashing.`);
        hash.update(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
      await this.fh.sync();
      await this.fh.close();
      await (place ? place(this.tmp) : rename(this.tmp, this.file));
    } catch (err) {
      await this.abort();
      throw fsError(err, this.file);
    }
    return `sha256:${hash.digest('hex')}`;
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await unlink(this.tmp).catch(() => {});
  }
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const padding = (size: number) => (size % 512 ? 512 - (size % 512) : 0);

/** Write every buffer at `position` (positional writes may be short: the rest is written until done). */
async function writeAt(fh: FileHandle, bufs: Buffer[], position: number, what: string): Promise<void> {
  const total = bufs.reduce((a, b) => a + b.length, 0);
  const done = (await fh.writev(bufs, position)).bytesWritten;
  if (done < total) {
    const rest = Buffer.concat(bufs).subarray(done);
    for (let off = 0; off < rest.length;) {
      const n = (await fh.write(rest, off, rest.length - off, position + done + off)).bytesWritten;
      if (n === 0) throw fsError(Object.assign(new Error('the file system accepted no more bytes'), { code: 'ENOSPC' }), what);
      off += n;
    }
  }
}

export interface Extracted {
  /** Blob digest → digest its bytes actually hash to (computed while extracting). */
  hashed: Map<string, string>;
  /** Blobs hard-linked from `existing` instead of being written (they hashed right). */
  linked: Set<string>;
}

function invalid(kit: string, why: string, cause?: unknown): FlightDeckError {
  return new FlightDeckError('KIT_INVALID', `${kit}: ${why}`, { cause, details: { kit } });
}

/**
 * Extract a kit tar into `dir` (which must be new). Blobs are hashed on the way; a blob that `existing`
 * already holds with the same size is only hashed and, when it matches, hard-linked from there (no bytes
 * written). Link, `..`, absolute, device and unexpected entries and truncated archives are refused with
 * KIT_INVALID.
 */
export async function extractKitTar(kit: string, dir: string, existing?: (digest: string) => string): Promise<Extracted> {
  const hashed = new Map<string, string>();
  const linked = new Set<string>();
  const seen = new Set<string>();
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true }).catch((err: unknown) => {
    throw fsError(err, dir);
  });
  const source = createReadStream(kit, { highWaterMark: 1024 * 1024 });
  try {
    await walkPlainTar(
      kit,
      source as AsyncIterable<Uint8Array>,
      async (entry) => {
        if (seen.has(entry.path)) throw invalid(kit, `the archive holds ${entry.path} twice.`);
        seen.add(entry.path);
        if (METADATA.has(entry.path)) {
          if (entry.size > MAX_METADATA) throw invalid(kit, `${entry.path} is ${entry.size} bytes, over the ${MAX_METADATA}-byte cap.`);
          const parts: Uint8Array[] = [];
          for await (const c of entry.bytes) parts.push(c);
          await writeFile(path.join(dir, entry.path), Buffer.concat(parts));
          return;
        }
        const m = BLOB_ENTRY.exec(entry.path);
        if (!m)
          throw invalid(kit, `unexpected entry ${JSON.stringify(entry.path)} (a kit holds oci-layout, index.json, ${KIT_LOCK_FILE} and blobs/sha256/<hex>).`);
        const digest = `sha256:${m[1]}`;
        const target = path.join(dir, 'blobs', 'sha256', m[1]!);
        const hash = createHash('sha256');
        const have = existing?.(digest);
        const haveSize = have
          ? await stat(have).then(
              (s) => s.size,
              () => -1,
            )
          : -1;
        if (have && haveSize === entry.size) {
          for await (const c of entry.bytes) hash.update(c);
          const actual = `sha256:${hash.digest('hex')}`;
          hashed.set(digest, actual);
          if (actual === digest) {
            // Only read by verification: the store keeps its own copy, so no fsync is needed here.
            await link(have, target).then(
              () => linked.add(digest),
              () => copyFile(have, target),
            );
          }
          return;
        }
        const fh = await open(target, 'wx');
        try {
          for await (const c of entry.bytes) {
            hash.update(c);
            await fh.write(c);
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        hashed.set(digest, `sha256:${hash.digest('hex')}`);
      },
      { ...DEFAULT_BUNDLE_LIMITS, maxEntries: 1_000_000 },
    );
  } catch (err) {
    if (err instanceof FlightDeckError && err.code === 'BUNDLE_MALFORMED') throw invalid(kit, err.message.replace(`${kit}: `, ''), err);
    if (err instanceof FlightDeckError) throw err;
    throw fsError(err, dir);
  } finally {
    source.destroy();
  }
  return { hashed, linked };
}
