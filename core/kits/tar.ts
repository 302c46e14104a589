/**
 * Kit archives: a deterministic ustar writer (entries sorted by name, owner 0:0, fixed modes, one fixed
 * mtime, no user or group names), and a safe extractor into a staging directory that accepts only the
 * files of an OCI image layout (`oci-layout`, `index.json`, `kit-lock.json`, `blobs/sha256/<hex>`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { fsError } from '../oci/layout.js';
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
