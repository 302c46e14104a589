/**
 * `pull --output DIR`: write each titled layer as DIR/<title> (like `oras pull`) and, only on request,
 * unpack tar+gzip layers into DIR/<title without .tar.gz>/. Refuses absolute paths, `..`, links that
 * escape DIR, hard links and device/FIFO entries; a refused archive leaves nothing behind.
 */
import { mkdir, open, realpath, rename, rm, symlink, lstat } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { TarFormatError, gunzipLimited, tarEntries } from '../archive/tar.js';
import { fsError, type OciLayout } from './layout.js';
import { ANNOTATION_TITLE, MEDIA, type Descriptor } from './manifest.js';

const TAR_TYPES: readonly string[] = [MEDIA.tarGzip, MEDIA.ociLayerTarGzip, 'application/vnd.docker.image.rootfs.diff.tar.gzip'];

function unsafe(what: string, why: string): FlightDeckError {
  return new FlightDeckError('UNSAFE_PATH', `Refused ${JSON.stringify(what.slice(0, 300))}: ${why}.`, { details: { path: what.slice(0, 300) } });
}

/** A relative path that stays inside its root: no absolute path, drive, `..`, NUL or empty name. */
export function safeRelative(name: string, what = name): string {
  if (name.includes('\0')) throw unsafe(what, 'it contains a NUL byte');
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified)) throw unsafe(what, 'it is an absolute path');
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(what, 'it contains `..`');
  if (parts.length === 0) throw unsafe(what, 'it names no file');
  return parts.join(path.sep);
}

export interface ExtractedFile {
  title: string;
  path: string;
  digest: string;
  size: number;
  unpacked: boolean;
}

/** Write titled layers of a pulled artifact to `outDir`. */
export async function writeOutputs(store: OciLayout, layers: Descriptor[], outDir: string, opts: { unpack: boolean }): Promise<ExtractedFile[]> {
  const root = path.resolve(outDir);
  // Check every title first so a bad one writes nothing.
  const plan = layers
    .filter((l) => l.annotations?.[ANNOTATION_TITLE])
    .map((l) => ({ layer: l, title: l.annotations?.[ANNOTATION_TITLE] as string, rel: safeRelative(l.annotations?.[ANNOTATION_TITLE] as string) }));
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw fsError(err, root);
  }
  const out: ExtractedFile[] = [];
  for (const { layer, title, rel } of plan) {
    const unpack = opts.unpack && TAR_TYPES.includes(layer.mediaType);
    const target = path.join(root, unpack ? rel.replace(/(\.tar\.gz|\.tgz)$/, '') : rel);
    await assertInside(root, path.dirname(target), title);
    if (unpack) await untarGz(store, layer, target, title);
    else await copyVerified(store, layer, target);
    out.push({ title, path: target, digest: layer.digest, size: layer.size, unpacked: unpack });
  }
  return out;
}

/**
 * Copy a blob to `target` through the store's verified read: written to a temp file and fsynced, renamed
 * into place only once its digest is confirmed; a corrupt blob (BLOB_CORRUPT) leaves no file.
 */
async function copyVerified(store: OciLayout, layer: Descriptor, target: string): Promise<void> {
  const tmp = `${target}.partial-${process.pid}`;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await store.withBlob(layer, async (chunks) => {
        for await (const chunk of chunks) await fh.write(chunk);
      });
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw fsError(err, target);
  }
}

/** The nearest existing ancestor of `dir` must resolve (through links) inside `root`. */
async function assertInside(root: string, dir: string, what: string): Promise<void> {
  const realRoot = await realpath(root);
  let probe = dir;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw unsafe(what, 'it leads outside the output folder through a link');
      return;
    } catch (err) {
      if (err instanceof FlightDeckError) throw err;
      const parent = path.dirname(probe);
      if (parent === probe) return;
      probe = parent;
    }
  }
}

/**
 * Unpack into a temp dir next to `target`, then rename once the whole blob's digest is confirmed (the
 * store's verified read); on any refusal or a corrupt blob the temp dir is removed.
 */
async function untarGz(store: OciLayout, layer: Descriptor, target: string, title: string): Promise<void> {
  const tmp = `${target}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await store.withBlob(layer, (chunks) => unpackInto(chunks, tmp, title));
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof FlightDeckError) throw err;
    if (err instanceof TarFormatError) {
      throw new FlightDeckError('INVALID_INPUT', `${title} is not a valid tar+gzip archive: ${err.message} at byte offset ${err.offset}.`, { cause: err });
    }
    throw fsError(err, target);
  }
}

async function unpackInto(chunks: AsyncIterable<Buffer>, tmp: string, title: string): Promise<void> {
  for await (const e of tarEntries(gunzipLimited(chunks))) {
    const what = `${title}: ${e.path}`;
    if (e.type === '3' || e.type === '4' || e.type === '6') throw unsafe(what, 'device and FIFO entries are not extracted');
    if (e.type === '1') throw unsafe(what, 'hard links are not extracted');
    // The archive's own root (`./`) is the target folder itself.
    if (e.type === '5' && e.path.replace(/\\/g, '/').split('/').every((p) => p === '' || p === '.')) continue;
    const rel = safeRelative(e.path, what);
    const dest = path.join(tmp, rel);
    await mkdir(path.dirname(dest), { recursive: true });
    await assertInside(tmp, path.dirname(dest), what);
    if (e.type === '5') {
      await mkdir(dest, { recursive: true });
    } else if (e.type === '2') {
      if (path.isAbsolute(e.linkname) || /^[A-Za-z]:/.test(e.linkname)) throw unsafe(what, `its link target ${e.linkname} is absolute`);
      const resolved = path.resolve(path.dirname(dest), e.linkname);
      if (resolved !== tmp && !resolved.startsWith(tmp + path.sep)) throw unsafe(what, `its link target ${e.linkname} escapes the output folder`);
      await symlink(e.linkname, dest);
    } else if (e.type === '0') {
      const existing = await lstat(dest).catch(() => undefined);
      if (existing?.isSymbolicLink()) throw unsafe(what, 'it would write through a link');
      const fh = await open(dest, 'w', e.mode & 0o755);
      try {
        for await (const chunk of e.body) await fh.write(chunk);
      } finally {
        await fh.close();
      }
    }
    // Other types (e.g. extended attributes) are skipped.
  }
}
