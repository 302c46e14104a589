/**
 * Local files handed to the app through its api (the browser's file input): begin, chunks in order,
 * finish with the sha256 the caller computed. The bytes go to a temp file in `<data>/uploads/`, which is
 * fsynced, checked against the size and digest, and renamed to `<data>/uploads/<sha256>/<safe name>`; the
 * path returned is what check, deploy and the kit methods take. The caller's file name is never a path:
 * only its last segment, reduced to `[A-Za-z0-9._-]`, names the stored file, inside a folder named by the
 * digest. Uploads older than a day are removed when the next one begins.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import { formatBytes } from '../units.js';
import { fsError } from '../oci/layout.js';
import { UPLOAD_CHUNK_BYTES, UPLOAD_MAX_BYTES, type UploadBegin, type UploadedFile } from './schema.js';

/** Uploads kept this long after their last write; older ones are removed when an upload begins. */
export const UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Uploads under way at once in one process (each holds an open file). */
export const UPLOAD_MAX_OPEN = 8;
/** An upload nobody wrote to for this long is given up (its temp file removed) when another begins. */
const UPLOAD_IDLE_MS = 60 * 60 * 1000;

const PART = /^\.[0-9a-f]{32}\.part$/;

interface Open {
  id: string;
  name: string;
  size: number;
  received: number;
  hash: Hash;
  fh: FileHandle;
  tmp: string;
  touched: number;
  /** A chunk or the finish is being written: the next call waits for none, it is refused. */
  busy: boolean;
  /** Settles when the chunk or finish under way is done (abort waits for it, then removes the bytes). */
  work: Promise<void> | undefined;
}

export interface Uploads {
  begin(name: string, size: number): Promise<UploadBegin>;
  /** `signal`: the caller gave the chunk up (cancelled it, or went away): the whole upload is given up. */
  chunk(id: string, offset: number, data: string, signal?: AbortSignal): Promise<{ received: number }>;
  finish(id: string, sha256: string): Promise<UploadedFile>;
  abort(id: string): Promise<void>;
  /** The uploads folder (`<data>/uploads`). */
  readonly dir: string;
}

/** The caller's file name as a safe single name: last segment, `[A-Za-z0-9._-]` only, no leading dot, ≤ 128 chars. */
export function safeUploadName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  let safe = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]+/, '');
  if (safe.length > 128) {
    const ext = /(\.tar\.gz|\.[A-Za-z0-9]{1,8})$/.exec(safe)?.[0] ?? '';
    safe = safe.slice(0, 128 - ext.length) + ext;
  }
  return safe || 'upload';
}

export function createUploads(paths: FlightDeckPaths, opts: { maxBytes?: number; now?: () => number } = {}): Uploads {
  const dir = path.join(paths.data, 'uploads');
  const maxBytes = opts.maxBytes ?? UPLOAD_MAX_BYTES;
  const now = opts.now ?? Date.now;
  const open_ = new Map<string, Open>();

  function get(id: string): Open {
    const u = open_.get(id);
    if (!u) {
      throw new FlightDeckError('NOT_FOUND', `No upload ${id} is under way (it finished, was aborted, or the app restarted).`, {
        hint: 'Choose the file again.',
        details: { upload: id },
      });
    }
    if (u.busy) throw new FlightDeckError('INVALID_INPUT', `Upload ${id}: send the next chunk after the last one was answered.`);
    return u;
  }

  /** Run `fn` as the upload's one piece of work under way (abort waits for it). */
  async function exclusive<T>(u: Open, fn: () => Promise<T>): Promise<T> {
    u.busy = true;
    const work = fn();
    u.work = work.then(
      () => {},
      () => {},
    );
    try {
      return await work;
    } finally {
      u.busy = false;
      u.work = undefined;
    }
  }

  async function drop(u: Open): Promise<void> {
    open_.delete(u.id);
    await u.fh.close().catch(() => {});
    await unlink(u.tmp).catch(() => {});
  }

  /** Old uploads and temp files nobody finished: removed by age (another process may own a fresh one). */
  async function clean(): Promise<void> {
    for (const u of [...open_.values()]) if (!u.busy && now() - u.touched > UPLOAD_IDLE_MS) await drop(u);
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) {
      const p = path.join(dir, entry);
      const st = await stat(p).catch(() => undefined);
      if (!st) continue;
      const limit = PART.test(entry) ? UPLOAD_IDLE_MS : UPLOAD_MAX_AGE_MS;
      if (now() - st.mtimeMs > limit) await rm(p, { recursive: true, force: true }).catch(() => {});
    }
  }

  return {
    dir,

    async begin(name, size) {
      const shown = safeUploadName(name);
      if (size > maxBytes) {
        throw new FlightDeckError('INVALID_INPUT', `${shown} is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} cap of a file handed to the app.`, {
          hint: 'Type the file’s path in the field instead: Flight Deck reads a file on this machine where it is, whatever its size.',
          details: { name: shown, size, max: maxBytes },
        });
      }
      await clean();
      if (open_.size >= UPLOAD_MAX_OPEN) {
        throw new FlightDeckError('INVALID_INPUT', `${UPLOAD_MAX_OPEN} files are being handed to the app already.`, {
          hint: 'Wait for them to finish, then choose the file again.',
        });
      }
      await mkdir(dir, { recursive: true }).catch((err: unknown) => {
        throw fsError(err, dir);
      });
      const id = randomBytes(16).toString('hex');
      const tmp = path.join(dir, `.${id}.part`);
      const fh = await open(tmp, 'wx', 0o600).catch((err: unknown) => {
        throw fsError(err, tmp);
      });
      open_.set(id, { id, name: shown, size, received: 0, hash: createHash('sha256'), fh, tmp, touched: now(), busy: false, work: undefined });
      return { upload: id, chunkBytes: UPLOAD_CHUNK_BYTES };
    },

    async chunk(id, offset, data, signal) {
      const u = get(id);
      if (offset !== u.received) {
        throw new FlightDeckError(
          'INVALID_INPUT',
          `Upload of ${u.name}: a chunk at byte ${offset}, but ${u.received} bytes came so far; chunks come in order.`,
          {
            details: { upload: id, offset, received: u.received },
          },
        );
      }
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length > UPLOAD_CHUNK_BYTES || u.received + bytes.length > u.size) {
        await drop(u);
        throw new FlightDeckError('BLOB_SIZE_MISMATCH', `Upload of ${u.name}: more bytes than the ${u.size} announced; nothing was kept.`, {
          hint: 'Choose the file again (it may have changed while it was read).',
          details: { upload: id, size: u.size },
        });
      }
      await exclusive(u, async () => {
        try {
          await u.fh.write(bytes, 0, bytes.length, offset);
        } catch (err) {
          await drop(u);
          throw fsError(err, u.tmp);
        }
        u.hash.update(bytes);
        u.received += bytes.length;
        u.touched = now();
      });
      if (signal?.aborted) {
        // Nobody waits for this answer (a cancel, or the page closed): the rest will never come.
        await drop(u);
        throw new FlightDeckError('ABORTED', `Upload of ${u.name} was cancelled; nothing was kept.`);
      }
      return { received: u.received };
    },

    async finish(id, sha256) {
      const u = get(id);
      return exclusive(u, () => finishUpload(u, sha256));
    },

    async abort(id) {
      const u = open_.get(id);
      if (!u) return;
      // A chunk or the finish under way ends first: then nothing writes to the temp file being removed.
      await u.work;
      if (open_.get(id) === u) await drop(u);
    },
  };

  async function finishUpload(u: Open, sha256: string): Promise<UploadedFile> {
    const id = u.id;
    try {
      if (u.received !== u.size) {
        throw new FlightDeckError('BLOB_SIZE_MISMATCH', `Upload of ${u.name}: ${u.received} of ${u.size} bytes came; nothing was kept.`, {
          hint: 'Choose the file again.',
          details: { upload: id, size: u.size, received: u.received },
        });
      }
      const actual = u.hash.digest('hex');
      if (actual !== sha256) {
        throw new FlightDeckError(
          'BLOB_DIGEST_MISMATCH',
          `Upload of ${u.name}: the bytes received hash to sha256:${actual}, not the sha256:${sha256} announced; nothing was kept.`,
          {
            hint: 'Choose the file again (it may have changed while it was read).',
            details: { upload: id, expected: sha256, actual },
          },
        );
      }
      const home = path.join(dir, sha256);
      const file = path.join(home, u.name);
      try {
        await u.fh.sync();
        await u.fh.close();
        await mkdir(home, { recursive: true });
        await rename(u.tmp, file);
      } catch (err) {
        throw fsError(err, file);
      }
      for (const d of [home, dir]) {
        const dh = await open(d, 'r').catch(() => undefined);
        await dh?.sync().catch(() => {});
        await dh?.close();
      }
      open_.delete(id);
      return { path: file, name: u.name, size: u.size, sha256 };
    } catch (err) {
      await drop(u);
      throw err;
    }
  }
}
