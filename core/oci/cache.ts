/**
 * The content store under `<data>/store` and its maintenance: list what is tagged, verify (re-hash every
 * blob), prune (untag entries older than an age, then oldest first until under a size cap, then delete
 * blobs no tagged manifest reaches).
 */
import { lstat, rm, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PRUNE_GRACE_SECONDS } from '../config/defaults.js';
import type { FlightDeckPaths } from '../config/paths.js';
import { ANNOTATION_PULLED_AT, OciLayout, hashFile, type IndexEntry } from './layout.js';
import { isLocked } from './lock.js';
import { ANNOTATION_REF_NAME, parseManifest } from './manifest.js';

export function storeRoot(paths: FlightDeckPaths): string {
  return path.join(paths.data, 'store');
}

export function openStore(paths: FlightDeckPaths): Promise<OciLayout> {
  return OciLayout.open(storeRoot(paths), { create: true, store: true });
}

export interface CacheEntry {
  reference: string;
  digest: string;
  mediaType: string;
  artifactType: string | undefined;
  pulledAt: string | undefined;
  /** Bytes of the manifest and every blob it reaches. */
  size: number;
}

/** Digests reachable from an index entry (itself, child manifests, configs, layers) with sizes. */
async function reachable(store: OciLayout, entry: { digest: string; mediaType: string }, into: Map<string, number>): Promise<void> {
  if (into.has(entry.digest)) return;
  let bytes: Buffer;
  try {
    bytes = await store.readBlob(entry.digest);
  } catch {
    return;
  }
  into.set(entry.digest, bytes.length);
  let m;
  try {
    m = parseManifest(bytes, entry.mediaType || undefined, entry.digest);
  } catch {
    return;
  }
  if (m.kind === 'index') {
    for (const c of m.manifests) await reachable(store, c, into);
  } else {
    for (const d of [m.config, ...m.layers]) into.set(d.digest, d.size);
  }
}

export async function listCache(store: OciLayout): Promise<{ root: string; entries: CacheEntry[]; totalBytes: number; blobs: number }> {
  const { manifests } = await store.readIndex();
  const entries: CacheEntry[] = [];
  for (const e of manifests) {
    const set = new Map<string, number>();
    await reachable(store, e, set);
    entries.push({
      reference: e.annotations?.[ANNOTATION_REF_NAME] ?? e.digest,
      digest: e.digest,
      mediaType: e.mediaType,
      artifactType: e.artifactType,
      pulledAt: e.annotations?.[ANNOTATION_PULLED_AT],
      size: [...set.values()].reduce((a, b) => a + b, 0),
    });
  }
  const blobs = await store.listBlobs();
  return { root: store.root, entries, totalBytes: blobs.reduce((a, b) => a + b.size, 0), blobs: blobs.length };
}

export interface VerifyResult {
  checked: number;
  bytes: number;
  corrupt: Array<{ digest: string; actual: string; removed: boolean }>;
  /** Partial downloads left in ingest/ (resumed by the next pull, removed by prune). */
  partials: number;
  /** Blobs found corrupt while read and set aside in quarantine/ (the next pull fetched or fetches them again). */
  quarantined: Array<{ digest: string; actual: string; file: string; quarantinedAt: string }>;
}

/** Re-hash every blob; report (and with `fix`, delete) corrupt ones. */
export async function verifyCache(
  store: OciLayout,
  opts: { fix?: boolean; signal?: AbortSignal | undefined; onProgress?: (done: number, total: number) => void } = {},
): Promise<VerifyResult> {
  const blobs = await store.listBlobs();
  const corrupt: VerifyResult['corrupt'] = [];
  let bytes = 0;
  let i = 0;
  for (const b of blobs) {
    if (opts.signal?.aborted) break;
    const actual = await hashFile(b.file, b.digest.split(':')[0] ?? 'sha256');
    if (actual !== b.digest) {
      if (opts.fix) await rm(b.file, { force: true });
      corrupt.push({ digest: b.digest, actual, removed: Boolean(opts.fix) });
    }
    bytes += b.size;
    opts.onProgress?.(++i, blobs.length);
  }
  const partials = (await readdir(store.ingestDir()).catch(() => [])).filter((n) => n.endsWith('.partial')).length;
  return { checked: blobs.length, bytes, corrupt, partials, quarantined: await store.listQuarantined() };
}

export interface PruneResult {
  untagged: string[];
  removedBlobs: number;
  freedBytes: number;
  remainingBytes: number;
}

/**
 * Prune: untag entries pulled more than `olderThanMs` ago, then the oldest until the store fits in
 * `maxBytes`, then delete every blob no remaining entry reaches and old partial downloads.
 *
 * Other processes may be pulling into the store meanwhile: they store blobs first and tag the manifest
 * last, and touch blobs they find already stored. So nothing modified less than `graceMs` ago (default
 * an hour, config.json `prune.graceSeconds`) is deleted, nor a partial whose lock a live process holds.
 */
export async function pruneCache(
  store: OciLayout,
  opts: { olderThanMs?: number | undefined; maxBytes?: number | undefined; graceMs?: number | undefined; now?: number },
): Promise<PruneResult> {
  const now = opts.now ?? Date.now();
  const graceMs = opts.graceMs ?? DEFAULT_PRUNE_GRACE_SECONDS * 1000;
  const young = (mtimeMs: number) => now - mtimeMs < graceMs;
  const { manifests } = await store.readIndex();
  const time = (e: IndexEntry) => Date.parse(e.annotations?.[ANNOTATION_PULLED_AT] ?? '') || 0;
  const keep = [...manifests].sort((a, b) => time(b) - time(a)).filter((e) => opts.olderThanMs === undefined || now - time(e) <= opts.olderThanMs);
  const sizes = new Map<IndexEntry, Map<string, number>>();
  for (const e of keep) {
    const set = new Map<string, number>();
    await reachable(store, e, set);
    sizes.set(e, set);
  }
  const total = (list: IndexEntry[]) => {
    const all = new Map<string, number>();
    for (const e of list) for (const [d, s] of sizes.get(e) ?? []) all.set(d, s);
    return [...all.values()].reduce((a, b) => a + b, 0);
  };
  if (opts.maxBytes !== undefined) while (keep.length > 0 && total(keep) > opts.maxBytes) keep.pop();
  const kept = new Set(keep);
  const untagged = manifests.filter((e) => !kept.has(e));
  // Only the entries read above: a pull that re-tagged one meanwhile wrote a new pulled-at, and stays.
  const same = (a: IndexEntry, b: IndexEntry) =>
    a.digest === b.digest &&
    a.annotations?.[ANNOTATION_REF_NAME] === b.annotations?.[ANNOTATION_REF_NAME] &&
    a.annotations?.[ANNOTATION_PULLED_AT] === b.annotations?.[ANNOTATION_PULLED_AT];
  await store.updateIndex((entries) => entries.filter((e) => !untagged.some((u) => same(u, e))));
  const live = new Set<string>();
  for (const e of keep) for (const d of sizes.get(e)?.keys() ?? []) live.add(d);
  let removedBlobs = 0;
  let freedBytes = 0;
  let remainingBytes = 0;
  for (const b of await store.listBlobs()) {
    // Stat again just before deleting: a pull may have touched the blob since it was listed.
    const mtimeMs = (await lstat(b.file).catch(() => undefined))?.mtimeMs ?? b.mtimeMs;
    if (live.has(b.digest) || young(mtimeMs)) {
      remainingBytes += b.size;
      continue;
    }
    await rm(b.file, { force: true });
    removedBlobs++;
    freedBytes += b.size;
  }
  await pruneIngest(store, young);
  return { untagged: untagged.map((e) => e.annotations?.[ANNOTATION_REF_NAME] ?? e.digest), removedBlobs, freedBytes, remainingBytes };
}

/**
 * Delete old leftovers in ingest/: partial downloads (unless a live process holds their lock), unique
 * temp partials, kit staging directories and stale locks. Anything young may belong to a running pull.
 */
async function pruneIngest(store: OciLayout, young: (mtimeMs: number) => boolean): Promise<void> {
  const dir = store.ingestDir();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    const st = await lstat(file).catch(() => undefined);
    if (!st || young(st.mtimeMs)) continue;
    if (name.endsWith('.partial')) {
      const hex = name.slice(0, -'.partial'.length);
      if (await isLocked(file, path.join(dir, `${hex}.lock`))) continue;
    } else if (name.endsWith('.lock')) {
      // A lock's holder refreshes its mtime every few seconds: an old one is a dead process's.
      if (await isLocked(file.slice(0, -'.lock'.length), file)) continue;
    }
    await rm(file, { recursive: true, force: true });
  }
}
