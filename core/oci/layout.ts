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
import { constants as fsConstants, createReadStream } from 'node:fs';
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

/** Roots opened as the content store in this process: any layout opened there later is the store too. */
const STORE_ROOTS = new Set<string>();

export class OciLayout {
  readonly root: string;
  /**
   * The content store (true) or someone else's `oci:` folder (false). A blob found corrupt while read is
   * moved to `quarantine/` in the store (so the next pull fetches it again); a folder is left as it is.
   * A layout is the store when opened with `store: true` (openStore) or at a root opened so before (an
   * `oci:<store>@digest` target that check/inspect and kit build walk).
   */
  readonly isStore: boolean;
  private indexLock: Promise<unknown> = Promise.resolve();

  constructor(root: string, opts: { store?: boolean } = {}) {
    this.root = path.resolve(root);
    if (opts.store === true) STORE_ROOTS.add(this.root);
    this.isStore = STORE_ROOTS.has(this.root);
  }

  /** Open an existing layout (LAYOUT_INVALID when it is not one) or create it; `store` marks the content store. */
  static async open(root: string, opts: { create: boolean; store?: boolean }): Promise<OciLayout> {
    const layout = new OciLayout(root, { store: opts.store === true });
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
        await writeFile(
          path.join(layout.root, 'index.json'),
          JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
          { flag: 'wx' },
        ).catch((err: NodeJS.ErrnoException) => {
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

  /** Read a small blob (manifest, config) fully; verifies its digest (BLOB_CORRUPT, quarantined, when wrong). */
  async readBlob(digest: string, maxBytes = MANIFEST_MAX_BYTES): Promise<Buffer> {
    const file = this.blobPath(digest);
    let st;
    try {
      st = await stat(file);
    } catch {
      throw new FlightDeckError('NOT_FOUND', `Blob ${digest} is not in ${this.root}.`, { details: { digest } });
    }
    if (st.size > maxBytes)
      throw new FlightDeckError('MANIFEST_TOO_LARGE', `Blob ${digest} in ${this.root} is ${st.size} bytes, over the ${maxBytes}-byte cap.`);
    return this.readBlobVerified({ digest, size: st.size }, maxBytes);
  }

  /**
   * A blob's bytes in memory, hashed while read; BLOB_CORRUPT (and quarantined in the store) when its
   * size or digest is wrong. For payloads, which are bounded: `maxBytes` caps what is read.
   */
  async readBlobVerified(desc: { digest: string; size: number }, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    if (desc.size > maxBytes)
      throw new FlightDeckError('MANIFEST_TOO_LARGE', `Blob ${desc.digest} in ${this.root} is ${desc.size} bytes, over the ${maxBytes}-byte cap.`);
    const reading = this.openBlob(desc);
    try {
      return await reading.readAll();
    } finally {
      await reading.close();
    }
  }

  /**
   * Open a blob for a verified streaming read. Its chunks are hashed as they are read and the last one is
   * held back until size and digest are confirmed: a corrupt blob throws BLOB_CORRUPT before its last
   * bytes are released, so a consumer that acts only on what it received (sends it, renames a file into
   * place) never acts on a corrupt blob. Prefer `withBlob`, which also covers consumers that stop early.
   */
  openBlob(desc: { digest: string; size: number }): BlobReading {
    return new BlobReading(this, desc);
  }

  /**
   * A verified read (see openBlob) as a stream that releases its file when it ends, fails or is abandoned:
   * for a consumer that takes an iterable (an upload body, a BlobWriter) and never calls `close` itself.
   */
  async *blobStream(desc: { digest: string; size: number }): AsyncGenerator<Buffer> {
    const reading = this.openBlob(desc);
    try {
      yield* reading;
    } finally {
      await reading.close();
    }
  }

  /**
   * Run `use` over a verified read of a blob (see openBlob). When `use` stops before the end (it returned
   * early, or failed, e.g. a parser choking on the damaged bytes), the rest of the blob is hashed too:
   * a corrupt blob always ends as BLOB_CORRUPT, never as the consumer's own error or as success.
   */
  async withBlob<T>(desc: { digest: string; size: number }, use: (chunks: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
    const reading = this.openBlob(desc);
    try {
      let result: T;
      try {
        result = await use(reading);
      } catch (err) {
        if (err instanceof FlightDeckError && (err.code === 'BLOB_CORRUPT' || err.code === 'NOT_FOUND' || err.code === 'ABORTED')) throw err;
        // The consumer's failure may be the damage itself: a corrupt blob is reported as such.
        await reading.finish(err).catch((e: unknown) => {
          if (e instanceof FlightDeckError && e.code === 'BLOB_CORRUPT') throw e;
        });
        throw err;
      }
      await reading.finish();
      return result;
    } finally {
      await reading.close();
    }
  }

  /**
   * Hash a stored blob (the pull's "already in the store" check): true when it is intact; when it is not,
   * it is quarantined (store) and false is returned, so the caller fetches it again.
   */
  async verifyStored(desc: { digest: string; size: number }): Promise<boolean> {
    try {
      await this.withBlob(desc, async () => undefined);
      return true;
    } catch (err) {
      if (err instanceof FlightDeckError && (err.code === 'BLOB_CORRUPT' || err.code === 'NOT_FOUND')) return false;
      throw err;
    }
  }

  quarantineDir(): string {
    return path.join(this.root, 'quarantine');
  }

  /**
   * Set a corrupt blob aside: rename it (atomic, same file system) to `quarantine/<alg>-<hex>` with a
   * `.json` record beside it, so `has` is false afterwards and the next pull fetches it again. Only when
   * the file at the blob's path is still the one that was read (`ino`): a good copy another process has
   * renamed into place meanwhile is kept. Returns the quarantine path, or undefined when nothing was moved.
   */
  async quarantine(digest: string, record: { actual: string; size: number; expectedSize: number; ino?: number }): Promise<string | undefined> {
    const { algorithm, hex } = parseDigest(digest);
    const file = this.blobPath(digest);
    const dir = this.quarantineDir();
    const target = path.join(dir, `${algorithm}-${hex}`);
    try {
      if (record.ino !== undefined) {
        const st = await stat(file).catch(() => undefined);
        if (!st || st.ino !== record.ino) return undefined;
      }
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(
        `${target}.json`,
        JSON.stringify(
          { digest, actual: record.actual, size: record.size, expectedSize: record.expectedSize, quarantinedAt: new Date().toISOString() },
          null,
          2,
        ),
      );
      await rename(file, target);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(err, target);
    }
  }

  /** Blobs set aside as corrupt (quarantine/*.json records). */
  async listQuarantined(): Promise<Array<{ digest: string; actual: string; file: string; quarantinedAt: string }>> {
    const dir = this.quarantineDir();
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: Array<{ digest: string; actual: string; file: string; quarantinedAt: string }> = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        const rec = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, unknown>;
        if (typeof rec.digest !== 'string') continue;
        out.push({
          digest: rec.digest,
          actual: String(rec.actual ?? ''),
          file: path.join(dir, name.slice(0, -'.json'.length)),
          quarantinedAt: String(rec.quarantinedAt ?? ''),
        });
      } catch {
        // a record being written or damaged: not listed
      }
    }
    return out;
  }

  /**
   * Hash a stored blob and return the identity of the file that hashed right, as it was when opened: a
   * caller that shares the file (a hard link) checks that its link names this very file, unchanged since.
   * BLOB_CORRUPT (quarantined) when wrong.
   */
  async verifiedIdentity(desc: { digest: string; size: number }): Promise<FileIdentity> {
    const reading = this.openBlob(desc);
    try {
      await reading.finish();
      return reading.identity()!;
    } finally {
      await reading.close();
    }
  }

  /** The BLOB_CORRUPT error for a blob read from this layout (quarantining it in the store). */
  async corrupt(desc: { digest: string; size: number }, found: { actual: string; size: number; ino?: number }, cause?: unknown): Promise<FlightDeckError> {
    const what = found.size !== desc.size ? `has ${found.size} bytes, its descriptor says ${desc.size}` : `hashes to ${found.actual}`;
    if (!this.isStore) {
      return new FlightDeckError(
        'BLOB_CORRUPT',
        `Blob ${desc.digest} in the OCI layout oci:${this.root} is corrupt (it ${what}); nothing was sent or written.`,
        {
          hint: `The folder ${this.root} is damaged and was left as it is: copy the layout again from its source.`,
          cause,
          details: { digest: desc.digest, actual: found.actual, layout: this.root },
        },
      );
    }
    const moved = await this.quarantine(desc.digest, {
      actual: found.actual,
      size: found.size,
      expectedSize: desc.size,
      ...(found.ino === undefined ? {} : { ino: found.ino }),
    });
    return new FlightDeckError(
      'BLOB_CORRUPT',
      `Blob ${desc.digest} in the content store ${this.root} is corrupt on disk (it ${what}); nothing was sent or written.${moved ? ` It was moved to ${moved}.` : ''}`,
      { cause, details: { digest: desc.digest, actual: found.actual, store: this.root, ...(moved ? { quarantined: moved } : {}) } },
    );
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

const READ_CHUNK = 1024 * 1024;

/**
 * One verified read of a blob (OciLayout.openBlob): iterate it once; `finish` hashes what the consumer
 * left unread and throws BLOB_CORRUPT when the blob is wrong; `close` releases the file.
 */
export class BlobReading implements AsyncIterable<Buffer> {
  private fh: FileHandle | undefined;
  private opened: Promise<FileHandle> | undefined;
  private readonly hash: Hash;
  private readonly hex: string;
  private read = 0;
  private ended = false;
  private verdict: Promise<void> | undefined;
  private openedAs: FileIdentity | undefined;
  private fileSize: number | undefined;

  constructor(
    private readonly layout: OciLayout,
    readonly desc: { digest: string; size: number },
  ) {
    const { algorithm, hex } = parseDigest(desc.digest);
    this.hash = createHash(algorithm);
    this.hex = hex;
  }

  private async handle(): Promise<FileHandle> {
    this.opened ??= (async () => {
      const file = this.layout.blobPath(this.desc.digest);
      try {
        const fh = await open(file, 'r');
        const st = await fh.stat({ bigint: true });
        this.openedAs = fileIdentity(st);
        this.fileSize = Number(st.size);
        this.fh = fh;
        return fh;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new FlightDeckError(
            'NOT_FOUND',
            `Blob ${this.desc.digest} is missing from ${this.layout.isStore ? 'the content store ' : 'the OCI layout oci:'}${this.layout.root}.`,
            {
              cause: err,
              ...(this.layout.isStore ? { hint: `\`flightdeck pull REF\` fetches it again.` } : {}),
              details: { digest: this.desc.digest },
            },
          );
        }
        throw fsError(err, file);
      }
    })();
    return this.opened;
  }

  /** The next chunk (hashed), or undefined at the end; stops one byte past the declared size. */
  private async next(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const fh = await this.handle();
    const want = Math.min(READ_CHUNK, Math.max(1, this.desc.size - this.read + 1));
    const buf = Buffer.allocUnsafe(want);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, want, this.read));
    } catch (err) {
      throw fsError(err, this.layout.blobPath(this.desc.digest));
    }
    if (bytesRead === 0) {
      this.ended = true;
      return undefined;
    }
    const chunk = buf.subarray(0, bytesRead);
    this.hash.update(chunk);
    this.read += bytesRead;
    if (this.read > this.desc.size) this.ended = true;
    return chunk;
  }

  /** Size and digest of everything read; BLOB_CORRUPT (quarantined in the store) when wrong. */
  private verify(cause?: unknown): Promise<void> {
    this.verdict ??= (async () => {
      const actual = `${this.desc.digest.slice(0, this.desc.digest.indexOf(':'))}:${this.hash.digest('hex')}`;
      if (this.read === this.desc.size && actual.endsWith(`:${this.hex}`)) return;
      const ino = this.openedAs && Number(this.openedAs.ino);
      throw await this.layout.corrupt(this.desc, { actual, size: this.read, ...(ino === undefined ? {} : { ino }) }, cause);
    })();
    return this.verdict;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let held: Buffer | undefined;
    for (let chunk = await this.next(); chunk; chunk = await this.next()) {
      if (held) yield held;
      held = chunk;
    }
    await this.verify();
    if (held) yield held;
  }

  /** The whole blob in one buffer, verified before it is returned (a longer file is not read whole). */
  async readAll(): Promise<Buffer> {
    const fh = await this.handle();
    let out: Buffer;
    try {
      if (this.fileSize !== undefined && this.fileSize > this.desc.size) return await this.finish().then(() => Buffer.alloc(0));
      out = await fh.readFile();
    } catch (err) {
      throw fsError(err, this.layout.blobPath(this.desc.digest));
    }
    this.hash.update(out);
    this.read = out.length;
    this.ended = true;
    await this.verify();
    return out;
  }

  /** Hash whatever was not read yet and verify; a corrupt blob throws BLOB_CORRUPT (with `cause`). */
  async finish(cause?: unknown): Promise<void> {
    while (await this.next());
    await this.verify(cause);
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
  }

  /** The file this reading opened, as it was when opened (once it read anything). */
  identity(): FileIdentity | undefined {
    return this.openedAs;
  }
}

export async function hashFile(file: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}

const FLUSH_BYTES = 1024 * 1024;

/**
 * A second destination a BlobWriter fills from the same bytes it hashes (`pull --output`: the output file;
 * `kit build`: the blob's place in the kit tar), so the copy costs no second read or hash of the store.
 * The writer calls `open` whenever it starts over (the copy must start empty), `write` with each batch
 * (the buffers are recycled once the promise settles), `commit` once size and digest matched (make the
 * bytes durable), then `verified`; `drop` when the bytes were not verified (mismatch, failure, a partial
 * kept for a resume). A copy is good only once `verified` was called.
 */
export interface BlobCopy {
  open(): Promise<void>;
  write(bufs: Buffer[], total: number): Promise<void>;
  commit(): Promise<void>;
  drop(): Promise<void>;
  verified(): void;
  /**
   * Called once the verified bytes are renamed into the store, with the stored file's identity (`pull
   * --output` shares that very file instead of writing a copy: core/oci/extract.ts). Not called when
   * another process stored the blob first: then the caller cannot know which file holds verified bytes.
   */
  placed?(file: FileIdentity): void;
}

/**
 * A file's bytes as they were verified: device and inode (the very file, under any name), size and
 * modification time (unchanged since: a write in place changes it; Linux ≥ 6.13 gives a write after a
 * `stat` a finer timestamp than the one that `stat` saw).
 */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

/** The identity of a file as `stat` (bigint) sees it now. */
export function fileIdentity(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs };
}

/** Whether two identities name the same file, unchanged. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/**
 * A BlobCopy into the file `file` (a fresh temp name in a folder the caller owns): truncated on open,
 * opened with O_NOFOLLOW (a link planted at its name is never written through), fsynced on commit,
 * deleted on drop.
 */
export function fileCopy(file: string, verified: () => void): BlobCopy {
  let fh: FileHandle | undefined;
  return {
    async open() {
      await fh?.close();
      fh = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o644);
    },
    write: (bufs, total) => writeAll(fh!, bufs, file, total),
    async commit() {
      await fh!.sync();
      await fh!.close();
      fh = undefined;
    },
    async drop() {
      if (!fh) return;
      await fh.close().catch(() => {});
      fh = undefined;
      await unlink(file).catch(() => {});
    },
    verified,
  };
}

/**
 * Writes one blob: hashes every byte on the way to `ingest/<hex>.partial`, refuses more bytes than
 * declared, and on commit checks size and digest, fsyncs and renames into `blobs/`. A partial file left
 * by an interrupted run is re-hashed and resumed from its end. The caller holds the partial's lock
 * (`OciLayout.partialPath`); with `unique` the writer uses a partial no other writer can name instead
 * (`ingest/<hex>.<pid>-<random>.tmp`, never resumed), for bytes that need no lock. With `copy` every
 * byte also goes to a second file (BlobCopy), which is good only once `verified` was called.
 */
export class BlobWriter {
  readonly partial: string;
  private fh: FileHandle | undefined;
  private readonly copy: BlobCopy | undefined;
  private copyOpen = false;
  private hash: Hash;
  private readonly algorithm: string;
  /** Bytes written (and hashed) so far. */
  offset = 0;

  constructor(
    private readonly layout: OciLayout,
    readonly desc: Descriptor,
    opts: { unique?: boolean; copy?: BlobCopy | undefined } = {},
  ) {
    const { algorithm, hex } = parseDigest(desc.digest);
    this.copy = opts.copy;
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
      if (this.copy) {
        await this.copy.open();
        this.copyOpen = true;
      }
      this.hash = createHash(this.algorithm);
      this.offset = 0;
      if (opts.resume) {
        const st = await stat(this.partial).catch(() => undefined);
        if (st?.isFile() && st.size > 0 && st.size <= this.desc.size) {
          for await (const chunk of createReadStream(this.partial, { highWaterMark: FLUSH_BYTES })) {
            this.hash.update(chunk as Buffer);
            // The copy starts over with the partial's (re-hashed) bytes.
            if (this.copy) await this.copy.write([chunk as Buffer], (chunk as Buffer).length);
          }
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
      // The partial and the copy take the same buffers at once (two thread-pool writes, no extra copy).
      await Promise.all([writeAll(fh, bufs, this.partial, total), this.copy?.write(bufs, total)]);
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
      const copy = this.copyOpen ? this.copy : undefined;
      await Promise.all([this.fh?.sync(), copy?.commit()]);
      const stored = copy?.placed && this.fh ? fileIdentity(await this.fh.stat({ bigint: true })) : undefined;
      await this.fh?.close();
      this.fh = undefined;
      if (copy) {
        this.copyOpen = false;
        // Size and digest matched and the copy is durable: its owner may use it.
        copy.verified();
      }
      await mkdir(path.dirname(target), { recursive: true });
      await rename(this.partial, target);
      if (stored) copy!.placed!(stored);
    } catch (err) {
      await this.discard();
      // Another process stored the same blob meanwhile (and e.g. Windows refuses to replace a file that is
      // open): its bytes were verified as well, so the blob is stored.
      if (await this.layout.has(desc)) return;
      throw fsError(err, target);
    }
  }

  /** Close and delete the partial file (and an unverified copy). */
  async discard(): Promise<void> {
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await unlink(this.partial).catch(() => {});
    await this.dropCopy();
  }

  /** Close, keeping the partial file for a later resume (cancel, network failure); an empty one goes. */
  async keep(): Promise<void> {
    await this.fh?.sync().catch(() => {});
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    if (this.offset === 0) await unlink(this.partial).catch(() => {});
    await this.dropCopy();
  }

  /** The copy of bytes that were not (or not all) verified is dropped. */
  private async dropCopy(): Promise<void> {
    if (!this.copyOpen) return;
    this.copyOpen = false;
    await this.copy!.drop();
  }
}

/** Write every buffer at the file's position: writev may write less than asked (a signal, a nearly full disk). */
async function writeAll(fh: FileHandle, bufs: Buffer[], what: string, total = bufs.reduce((a, b) => a + b.length, 0)): Promise<void> {
  try {
    let written = (await fh.writev(bufs)).bytesWritten;
    if (written < total) {
      const rest = Buffer.concat(bufs).subarray(written);
      for (let off = 0; off < rest.length; off += written) {
        written = (await fh.write(rest, off)).bytesWritten;
        if (written === 0) throw Object.assign(new Error('the file system accepted no more bytes'), { code: 'ENOSPC' });
      }
    }
  } catch (err) {
    throw fsError(err, what);
  }
}
