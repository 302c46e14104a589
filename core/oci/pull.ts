/**
 * Pull an artifact (from a registry or an `oci:` layout) into the content store: resolve the manifest,
 * download missing blobs in parallel (default 3) with Range resume and retries, verify every byte, store
 * manifests last (so a stored manifest implies its blobs are there) and tag the store's index.json.
 */
import { mapLimit } from '../concurrency.js';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import { firstHeader, type RegistryClient } from './client.js';
import { discard, NetworkError } from './http.js';
import { ANNOTATION_PULLED_AT, BlobWriter, type BlobCopy, type OciLayout } from './layout.js';
import { lockChanged, tryLock, type HeldLock } from './lock.js';
import { ANNOTATION_TITLE, parseManifest, digestOf, type Descriptor, type Manifest } from './manifest.js';
import { formatReference, type Reference } from './reference.js';
import type { BlobEvent } from './schema.js';

export interface ResolvedManifest {
  bytes: Buffer;
  descriptor: Descriptor;
  manifest: Manifest;
}

/** Where content comes from: a registry repository or an OCI layout. */
export interface ContentSource {
  readonly name: string;
  /** Resolve the reference's tag or digest. */
  resolve(signal?: AbortSignal): Promise<ResolvedManifest>;
  manifest(desc: Descriptor, signal?: AbortSignal): Promise<ResolvedManifest>;
  /** A blob's bytes from `offset` (or from 0 when the source cannot resume: `start` says which). */
  blob(desc: Descriptor, offset: number, signal?: AbortSignal): Promise<{ start: number; stream: AsyncIterable<Buffer> }>;
  /** Pause before retry number `attempt` (0-based). */
  pause(attempt: number, signal?: AbortSignal): Promise<void>;
  readonly retries: number;
}

export function registrySource(client: RegistryClient, repo: string, reference: string): ContentSource {
  return {
    name: `${client.registry}/${repo}`,
    retries: client.retries,
    resolve: (signal) => client.getManifest(repo, reference, signal),
    async manifest(desc, signal) {
      const got = await client.getManifest(repo, desc.digest, signal);
      if (got.bytes.length !== desc.size) {
        throw new FlightDeckError('BLOB_SIZE_MISMATCH', `Manifest ${desc.digest} is ${got.bytes.length} bytes, its descriptor says ${desc.size}.`);
      }
      return got;
    },
    async blob(desc, offset, signal) {
      let res = await client.getBlob(repo, desc.digest, offset, signal);
      let start = 0;
      if (offset > 0 && res.status === 206) {
        const range = firstHeader(res.headers['content-range']);
        if (range === `bytes ${offset}-${desc.size - 1}/${desc.size}`) start = offset;
        else {
          // A 206 for some other range: do not guess, restart from zero.
          await discard(res);
          res = await client.getBlob(repo, desc.digest, 0, signal);
        }
      }
      if (res.status !== 200 && start === 0) {
        await discard(res);
        throw new FlightDeckError('REGISTRY_ERROR', `${client.registry} answered ${res.status} to a plain GET of blob ${desc.digest}.`);
      }
      const length = Number(firstHeader(res.headers['content-length']));
      if (Number.isFinite(length) && start + length !== desc.size) {
        await discard(res);
        throw new FlightDeckError(
          'BLOB_SIZE_MISMATCH',
          `${client.registry} declared ${start + length} bytes for blob ${desc.digest}, the manifest says ${desc.size}; nothing was stored.`,
          {
            details: { digest: desc.digest, expected: desc.size, declared: start + length },
          },
        );
      }
      return { start, stream: res.body };
    },
    pause: (attempt, signal) => client.pause(attempt, signal),
  };
}

export function layoutSource(layout: OciLayout, ref: { tag?: string | undefined; digest?: string | undefined }): ContentSource {
  const load = async (desc: Descriptor): Promise<ResolvedManifest> => {
    const bytes = await layout.readBlob(desc.digest);
    const manifest = parseManifest(bytes, desc.mediaType || undefined, `oci:${layout.root}@${desc.digest}`);
    const descriptor: Descriptor = { mediaType: manifest.mediaType, digest: desc.digest, size: bytes.length };
    if (manifest.artifactType) descriptor.artifactType = manifest.artifactType;
    return { bytes, descriptor, manifest };
  };
  return {
    name: `oci:${layout.root}`,
    retries: 0,
    resolve: async () => load(await layout.resolve(ref)),
    manifest: (desc) => load(desc),
    async blob(desc) {
      if (!(await layout.has(desc))) {
        throw new FlightDeckError('NOT_FOUND', `Blob ${desc.digest} (${desc.size} bytes) is missing from oci:${layout.root}.`);
      }
      // Read from the start through the layout's verified read, so a blob damaged in the folder is
      // BLOB_CORRUPT naming the folder (not a download mismatch); local bytes are cheap to read again.
      return { start: 0, stream: layout.blobStream(desc) };
    },
    pause: () => Promise.resolve(),
  };
}

/** One blob's progress (schema: core/oci/schema.ts, the `blob` event of registry.pull and kit.build). */
export type { BlobEvent } from './schema.js';

/**
 * A failure that says nothing against the bytes received so far (the registry is down, busy or
 * throttling, the connection broke, the user cancelled): the partial is kept for the next pull to resume.
 */
function isTransient(err: unknown): boolean {
  if (!(err instanceof FlightDeckError)) return isRetryable(err);
  if (['REGISTRY_UNREACHABLE', 'RATE_LIMITED', 'ABORTED'].includes(err.code)) return true;
  const status = (err.details as { status?: unknown } | undefined)?.status;
  return err.code === 'REGISTRY_ERROR' && typeof status === 'number' && status >= 500;
}

/** Thrown inside the download when another process took this one's partial lock over. */
class LockLost extends Error {}

function isRetryable(err: unknown): boolean {
  // The client already retried its own requests; here only a body that broke off mid-stream is resumed.
  if (err instanceof NetworkError) return true;
  if (err instanceof FlightDeckError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ETIMEDOUT' || (err as Error).message === 'aborted';
}

/** Progress (bytes) that earns a broken download a fresh retry budget. */
const FRESH_BUDGET_BYTES = 8 * 1024 * 1024;

const inFlight = new Map<string, Promise<'downloaded' | 'skipped'>>();

/**
 * Copy one blob from a source into the store, verified; resumes with Range after a network error.
 * `downloaded` is called once every byte arrived and was verified, before the fsync and rename that
 * store it (a pull starts its next download then; the blob counts as stored only when this resolves).
 * With `copy`, a download also writes its bytes to that file (see BlobCopy); a skipped blob leaves it alone.
 */
export async function fetchBlob(
  source: ContentSource,
  store: OciLayout,
  desc: Descriptor,
  onEvent: (e: BlobEvent) => void = () => {},
  signal?: AbortSignal,
  downloaded?: () => void,
  verifyExisting = true,
  copy?: BlobCopy,
): Promise<'downloaded' | 'skipped'> {
  const key = `${store.root}\0${desc.digest}`;
  const running = inFlight.get(key);
  if (running) return running.then(() => 'skipped' as const);
  const job = fetchBlobOnce(source, store, desc, onEvent, signal, downloaded, verifyExisting, copy).finally(() => inFlight.delete(key));
  inFlight.set(key, job);
  return job;
}

async function fetchBlobOnce(
  source: ContentSource,
  store: OciLayout,
  desc: Descriptor,
  onEvent: (e: BlobEvent) => void,
  signal?: AbortSignal,
  downloaded?: () => void,
  verifyExisting = true,
  copy?: BlobCopy,
): Promise<'downloaded' | 'skipped'> {
  const base = { digest: desc.digest, title: desc.annotations?.[ANNOTATION_TITLE], mediaType: desc.mediaType, total: desc.size };
  const { partial, lock: lockPath } = store.partialPath(desc.digest);
  // A blob already there is hashed (a corrupt one is quarantined and fetched again) unless the caller
  // reads it next anyway: every read from the store verifies, so hashing here would be a second pass.
  if ((await store.has(desc)) && (!verifyExisting || (await store.verifyStored(desc)))) {
    onEvent({ ...base, phase: 'skipped', done: desc.size });
    return 'skipped';
  }
  for (;;) {
    // One writer per partial across processes: another pull of this blob (CLI, web host, app) holds the
    // lock while it downloads; wait for it, then find the blob stored (or the lock free after a failure).
    // A blob that appears meanwhile was renamed into place by a writer that verified it.
    const lock = await tryLock(partial, lockPath);
    if (!lock) {
      await lockChanged(lockPath, signal);
      if (await store.has(desc)) {
        onEvent({ ...base, phase: 'skipped', done: desc.size });
        return 'skipped';
      }
      continue;
    }
    try {
      if (await store.has(desc)) {
        onEvent({ ...base, phase: 'skipped', done: desc.size });
        return 'skipped';
      }
      return await download(source, store, desc, lock, base, onEvent, signal, downloaded, copy);
    } catch (err) {
      if (!(err instanceof LockLost)) throw err;
    } finally {
      await lock.release();
    }
  }
}

async function download(
  source: ContentSource,
  store: OciLayout,
  desc: Descriptor,
  lock: HeldLock,
  base: Omit<BlobEvent, 'phase' | 'done'>,
  onEvent: (e: BlobEvent) => void,
  signal?: AbortSignal,
  downloaded?: () => void,
  copy?: BlobCopy,
): Promise<'downloaded'> {
  const writer = new BlobWriter(store, desc, { copy });
  let offset = await writer.prepare({ resume: true });
  onEvent({ ...base, phase: 'start', done: offset });
  if (offset === desc.size) {
    // A complete partial (a run stopped after its last byte, before the rename): verify and store it
    // without asking the registry, which would answer `Range: bytes=<size>-` with 416.
    try {
      await writer.commit(downloaded);
      onEvent({ ...base, phase: 'done', done: desc.size });
      return 'downloaded';
    } catch (err) {
      if (!(err instanceof FlightDeckError && err.code === 'BLOB_DIGEST_MISMATCH')) throw err;
      offset = await writer.prepare({ resume: false });
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      throwIfAborted(signal);
      const { start, stream } = await source.blob(desc, offset, signal);
      if (start !== offset) offset = await writer.prepare({ resume: false });
      await writer.write(stream, () => onEvent({ ...base, phase: 'bytes', done: writer.offset }));
      if (lock.compromised) throw new LockLost();
      await writer.commit(downloaded);
      onEvent({ ...base, phase: 'done', done: desc.size });
      return 'downloaded';
    } catch (err) {
      if (lock.compromised) {
        // Another process took the partial over: leave it to that one, start again from the top.
        await writer.keep();
        throw new LockLost();
      }
      if (err instanceof FlightDeckError && err.code === 'ABORTED') {
        await writer.keep();
        throw err;
      }
      if (signal?.aborted) {
        await writer.keep();
        throw new FlightDeckError('ABORTED', 'The operation was cancelled.', { cause: err });
      }
      if (isRetryable(err) && attempt < source.retries) {
        const before = offset;
        await writer.sync();
        offset = await writer.prepare({ resume: true });
        // An attempt that brought a good share of the blob starts a fresh budget: a long download over a
        // link that breaks now and then completes; one that stays broken (or dribbles bytes) still fails.
        if (offset - before >= FRESH_BUDGET_BYTES) attempt = 0;
        onEvent({ ...base, phase: 'retry', done: offset });
        await source.pause(attempt, signal);
        continue;
      }
      // Keep the verified-so-far bytes when the failure is the network's: the next pull resumes them.
      if (isTransient(err)) await writer.keep();
      else await writer.discard();
      if (err instanceof FlightDeckError) throw err;
      throw new FlightDeckError(
        'REGISTRY_UNREACHABLE',
        `Connection to ${source.name} lost while downloading blob ${desc.digest} (${attempt + 1} attempt${attempt === 0 ? '' : 's'}): ${(err as Error).message}`,
        { cause: err, details: { digest: desc.digest } },
      );
    }
  }
}

export interface PullResult {
  reference: string;
  digest: string;
  mediaType: string;
  artifactType: string | undefined;
  annotations: Record<string, string>;
  /** Blobs of every image manifest pulled (layers and configs). */
  layers: Descriptor[];
  blobsDownloaded: number;
  blobsSkipped: number;
  bytesDownloaded: number;
}

export interface PullOptions {
  concurrency?: number | undefined;
  /** Only index children whose `flight.target-platform` annotation (or platform.os) matches. */
  platform?: string | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: (e: BlobEvent) => void;
  /**
   * Hash blobs already in the store before skipping them (default true). False only for callers that
   * read every blob next through the store's verified read (deploy, check, --output, kit build).
   */
  verifyExisting?: boolean | undefined;
  /**
   * A second file for a blob's bytes (BlobCopy), asked for before each blob: a download writes it from
   * the same verified stream as the store (`pull --output`, core/oci/extract.ts). Blobs found in the store
   * are not copied here: the caller reads those through the store's verified read.
   */
  copyTo?: ((desc: Descriptor, store: OciLayout) => Promise<BlobCopy | undefined>) | undefined;
}

/** Pull `ref` from `source` into `store`; returns what was pulled. */
export async function pull(source: ContentSource, store: OciLayout, ref: Reference, opts: PullOptions = {}): Promise<PullResult> {
  const { signal } = opts;
  const top = await source.resolve(signal);
  const manifests: ResolvedManifest[] = [top];
  if (top.manifest.kind === 'index') {
    const children = top.manifest.manifests.filter(
      (d) => !opts.platform || d.annotations?.['flight.target-platform'] === opts.platform || d.platform?.os === opts.platform,
    );
    if (opts.platform && children.length === 0) {
      throw new FlightDeckError('NOT_FOUND', `${formatReference(ref)} has no manifest for platform ${JSON.stringify(opts.platform)}.`);
    }
    for (const child of children) {
      const got = await source.manifest(child, signal);
      if (got.manifest.kind === 'index')
        throw new FlightDeckError('MANIFEST_INVALID', `Nested index ${child.digest} in ${formatReference(ref)} is not supported.`);
      manifests.push(got);
    }
  }
  const blobs = new Map<string, Descriptor>();
  for (const m of manifests) {
    if (m.manifest.kind !== 'manifest') continue;
    for (const d of [m.manifest.config, ...m.manifest.layers]) blobs.set(d.digest, d);
  }
  let downloaded = 0;
  let skipped = 0;
  let bytes = 0;
  await mapLimit([...blobs.values()], opts.concurrency ?? 3, async (desc, release) => {
    // The OCI empty config may be embedded in the descriptor; check it and store it without a request.
    if (desc.data !== undefined) {
      const data = Buffer.from(desc.data, 'base64');
      if (data.length === desc.size && digestOf(data, desc.digest.split(':')[0]) === desc.digest) {
        await store.putBytes(desc.digest, data);
        skipped++;
        return;
      }
    }
    const copy = await opts.copyTo?.(desc, store);
    const r = await fetchBlob(source, store, desc, opts.onEvent, signal, release, opts.verifyExisting !== false, copy);
    if (r === 'downloaded') {
      downloaded++;
      bytes += desc.size;
    } else {
      // Young again, so a concurrent `cache prune` keeps it until this pull has tagged its manifest.
      await store.touchBlob(desc.digest);
      skipped++;
    }
  });
  for (const m of [...manifests].reverse()) await store.putBytes(m.descriptor.digest, m.bytes);
  const refName =
    ref.kind === 'registry' ? `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}` : formatReference(ref);
  await store.tag(top.descriptor, refName, { [ANNOTATION_PULLED_AT]: new Date().toISOString() });
  const layers = manifests.flatMap((m) => (m.manifest.kind === 'manifest' ? m.manifest.layers : []));
  return {
    reference: refName,
    digest: top.descriptor.digest,
    mediaType: top.manifest.mediaType,
    artifactType: top.manifest.artifactType,
    annotations: top.manifest.annotations,
    layers,
    blobsDownloaded: downloaded,
    blobsSkipped: skipped,
    bytesDownloaded: bytes,
  };
}
