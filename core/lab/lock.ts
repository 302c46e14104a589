/**
 * `lab lock`: resolve every platform's bundle (tag → digest), bring it into the content store and hash the
 * payload each device runs, then write `flightdeck.lab.lock`: canonical JSON (keys sorted at every level,
 * no time, no tool version), so the same inputs give the same bytes. Written temp + fsync + rename.
 * Every other lab command reads the lock and refuses one that no longer matches the lab file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Connection, RegistryAccess } from '../oci/access.js';
import { parseReference } from '../oci/reference.js';
import { lockedReference, openBundle, labPolicy, payloadFile, pinnedReference, requestedReference } from './content.js';
import type { Lab } from './load.js';
import { LAB_LOCK_SCHEMA, LabLockSchema, type LabBundle, type LabLock, type LabLockResult, type LabRef } from './schema.js';

/** Lock files are small; anything larger is not one of ours. */
const MAX_LOCK_BYTES = 4 * 1024 * 1024;

/** JSON with object keys sorted at every level, two-space indent, final newline. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}

export function lockDigest(bytes: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The module keys of a platform's devices ('' = the bundle's first module), sorted. */
export function modulesOf(lab: Lab, platform: string): string[] {
  return [...new Set(lab.doc.devices.filter((d) => d.platform === platform).map((d) => d.module ?? ''))].sort();
}

/** Platforms the lab lists bundles for, sorted. */
export function platformsOf(lab: Lab): string[] {
  return Object.keys(lab.doc.bundles).sort();
}

/** The source as the lab file writes it (an oci: folder stays relative: the lock is the same on every machine). */
export function sourceText(lab: Lab): string {
  return lab.doc.source;
}

const sameRequest = (a: LabBundle, b: LabBundle) => ('tag' in a ? 'tag' in b && a.tag === b.tag : 'digest' in b && a.digest === b.digest);

/** Resolve and hash everything the lab needs; the lock content (not written). */
export async function resolveLock(lab: Lab, registry: RegistryAccess, paths: FlightDeckPaths, conn: Connection, signal?: AbortSignal): Promise<LabLock> {
  const policy = await labPolicy(lab, paths);
  const bundles: LabLock['bundles'] = {};
  for (const platform of platformsOf(lab)) {
    throwIfAborted(signal);
    const want = lab.doc.bundles[platform]!;
    const requested = requestedReference(lab.source, platform, want);
    // The tag is resolved once; everything after reads the digest it gave (a tag moving meanwhile changes nothing).
    const top = await registry
      .withSource(parseReference(requested), conn, (s) => s.resolve(signal))
      .catch((err: unknown) => {
        if (err instanceof FlightDeckError && err.code === 'NOT_FOUND') {
          throw new FlightDeckError('NOT_FOUND', `${lab.file}: bundles.${platform}: ${requested} does not exist.`, {
            hint: 'Check the tag or digest (`flightdeck ls REGISTRY/NAMESPACE/bundles/PLATFORM`).',
            details: { reference: requested },
          });
        }
        throw err;
      });
    const digest = top.descriptor.digest;
    const bundle = await openBundle(registry, pinnedReference(lab.source, platform, digest), policy, conn, signal);
    const payloads: LabLock['bundles'][string]['payloads'] = {};
    for (const module of modulesOf(lab, platform)) {
      const p = await bundle.payload(module);
      payloads[module] = { file: payloadFile(p), sha256: p.sha256, size: p.bytes.length };
    }
    bundles[platform] = { requested: want, reference: lockedReference(lab.source, platform, digest), digest, payloads };
  }
  return { schema: LAB_LOCK_SCHEMA, source: sourceText(lab), bundles };
}

async function readLockText(file: string): Promise<string | undefined> {
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_LOCK_BYTES) throw badLock(file, `is ${bytes.length} bytes, over the ${MAX_LOCK_BYTES}-byte cap`);
    return bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof FlightDeckError) throw err;
    throw new FlightDeckError('IO_ERROR', `Cannot read the lab lock ${file}: ${(err as Error).message}`, { cause: err, details: { path: file } });
  }
}

function badLock(file: string, why: string): FlightDeckError {
  return new FlightDeckError('LAB_LOCK_STALE', `The lab lock ${file} ${why}.`, {
    hint: 'Run `flightdeck lab lock` to write it again from the lab file (and commit it beside the lab file).',
    details: { path: file },
  });
}

/** `lab lock`: resolve, then write the lock when its bytes changed. */
export async function lockLab(lab: Lab, registry: RegistryAccess, paths: FlightDeckPaths, conn: Connection, signal?: AbortSignal): Promise<LabLockResult> {
  const content = await resolveLock(lab, registry, paths, conn, signal);
  const text = canonicalJson(content);
  const previousText = await readLockText(lab.lockFile);
  let previous: LabLock | undefined;
  try {
    previous = previousText === undefined ? undefined : LabLockSchema.parse(JSON.parse(previousText));
  } catch {
    previous = undefined; // replaced below
  }
  const moved = Object.entries(content.bundles)
    .filter(([platform, b]) => previous?.bundles[platform]?.digest !== b.digest)
    .map(([platform, b]) => ({ platform, from: previous?.bundles[platform]?.digest ?? null, to: b.digest }))
    .filter((m) => previous !== undefined || m.from !== null);
  const changed = text !== previousText;
  throwIfAborted(signal);
  if (changed) {
    try {
      await writeFileAtomic(lab.lockFile, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR';
      throw new FlightDeckError(code, `Cannot write the lab lock ${lab.lockFile}: ${(err as Error).message}`, { cause: err, details: { path: lab.lockFile } });
    }
  }
  return { file: lab.file, lock: lab.lockFile, lockDigest: lockDigest(text), changed, moved, content };
}

/**
 * The lab's lock, checked against the lab file: same source, a bundle entry for every platform with the
 * same tag or digest asked for, a payload for every module a device uses. Missing or stale: LAB_LOCK_STALE.
 */
export async function readLock(lab: Lab): Promise<{ lock: LabLock; ref: LabRef }> {
  const text = await readLockText(lab.lockFile);
  if (text === undefined) throw badLock(lab.lockFile, 'does not exist');
  let lock: LabLock;
  try {
    lock = LabLockSchema.parse(JSON.parse(text));
  } catch (err) {
    throw badLock(lab.lockFile, `is not a lab lock (${(err as Error).message.split('\n')[0]?.slice(0, 200)})`);
  }
  if (lock.source !== sourceText(lab)) throw badLock(lab.lockFile, `was written for source ${lock.source}, but the lab file names ${sourceText(lab)}`);
  for (const platform of platformsOf(lab)) {
    const entry = lock.bundles[platform];
    if (!entry) throw badLock(lab.lockFile, `has no bundle for ${platform}`);
    const want = lab.doc.bundles[platform]!;
    if (!sameRequest(entry.requested, want))
      throw badLock(lab.lockFile, `locks ${platform} for ${JSON.stringify(entry.requested)}, but the lab file asks for ${JSON.stringify(want)}`);
    if ('digest' in want && entry.digest !== want.digest) throw badLock(lab.lockFile, `pins ${platform} to ${entry.digest}, not the lab file's ${want.digest}`);
    for (const module of modulesOf(lab, platform)) {
      if (!entry.payloads[module]) throw badLock(lab.lockFile, `has no payload for ${platform} module ${JSON.stringify(module || '(first)')}`);
    }
  }
  for (const platform of Object.keys(lock.bundles)) {
    if (!Object.hasOwn(lab.doc.bundles, platform)) throw badLock(lab.lockFile, `locks ${platform}, which the lab file no longer lists`);
  }
  return { lock, ref: { file: lab.file, lock: lab.lockFile, lockDigest: lockDigest(text) } };
}
