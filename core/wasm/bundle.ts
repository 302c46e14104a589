/**
 * Reading tar+gzip bundles for inspection. Nothing is written to disk: the regular files are handed to
 * the caller as byte streams, in archive order, by the shared archive reader (core/archive/tar.ts).
 * The bundle policy refuses what a safe extractor must refuse (absolute or `..` paths, links, devices),
 * and the reader's limits refuse gzip bombs and archives with too many entries.
 */
import { FlightDeckError } from '../errors.js';
import { DEFAULT_TAR_LIMITS, TarFormatError, gunzipLimited, tarEntries, type TarLimits } from '../archive/tar.js';

export type BundleLimits = TarLimits;
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = DEFAULT_TAR_LIMITS;

export interface BundleEntry {
  path: string;
  size: number;
  /** The entry's bytes; read them (or not) before asking for the next entry. */
  bytes: AsyncIterable<Uint8Array>;
}

/** Bundle-level problems; `offset` is in the unpacked tar stream (the compressed one for gzip errors). */
function bad(name: string, message: string, offset: number): FlightDeckError {
  return new FlightDeckError('BUNDLE_MALFORMED', `${name}: ${message} at byte offset ${offset} of the unpacked archive.`, {
    details: { input: name, offset },
  });
}

/**
 * Walk the regular files of a tar+gzip stream. `visit` is called for each file in order; whatever it
 * leaves unread is skipped.
 */
export async function walkTarGz(
  name: string,
  source: AsyncIterable<Uint8Array>,
  visit: (entry: BundleEntry) => Promise<void>,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  return walkTar(name, gunzipLimited(source, limits), visit, limits);
}

/** Walk a plain (uncompressed) tar stream with the same rules and limits (kits are plain tar files). */
export async function walkPlainTar(
  name: string,
  source: AsyncIterable<Uint8Array>,
  visit: (entry: BundleEntry) => Promise<void>,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  return walkTar(name, source, visit, limits);
}

async function walkTar(name: string, tar: AsyncIterable<Uint8Array>, visit: (entry: BundleEntry) => Promise<void>, limits: BundleLimits): Promise<void> {
  try {
    for await (const e of tarEntries(tar, limits)) {
      if (e.type === '1' || e.type === '2') throw bad(name, `refuses link entry "${e.path}"`, e.offset);
      if (e.type === '3' || e.type === '4' || e.type === '6') throw bad(name, `refuses device or fifo entry "${e.path}"`, e.offset);
      const path = safePath(name, e.path, e.offset);
      if (e.type === '0') await visit({ path, size: e.size, bytes: e.body });
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw bad(name, err.message, err.offset);
    throw err;
  }
}

/** Relative, no `..`, no NUL: the entry names a file inside the bundle. */
function safePath(name: string, raw: string, at: number): string {
  const path = raw.replace(/^(\.\/)+/, '');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0')) {
    throw bad(name, `refuses absolute or non-portable path "${raw}"`, at);
  }
  if (path.split('/').some((seg) => seg === '..')) throw bad(name, `refuses path with ".." "${raw}"`, at);
  return path;
}
