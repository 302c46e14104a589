/**
 * `pull --output DIR`: write each titled layer as DIR/<title> (like `oras pull`) and, only on request,
 * unpack tar+gzip layers into DIR/<title without .tar.gz>/.
 *
 * Everything is staged first and moved into place at the end: each layer goes to a fresh temp file or
 * folder next to its target (`<target>.partial-<pid>-<random>`), and only when every layer is staged are
 * they renamed into place. A refusal or error removes every temp (and DIR itself when this call created
 * it), so nothing is left behind, inside DIR or outside.
 *
 * Unpacking policy (docs/cli.md): absolute paths, `..`, NUL, hard links, devices and FIFOs are refused.
 * Symbolic links are allowed but created last, after every file and directory: while files are written
 * no link exists in the temp folder, so no write can pass through one. An entry whose path passes through
 * an earlier link, or that replaces an entry of another type (a directory by a link, a link by a file),
 * is refused. Before any link is created, every link target is resolved against the whole extracted tree,
 * following the archive's other links as the disk would (`a/b/z -> ../..` then `a/b/x -> z/../../..`),
 * and must stay inside the folder; the created links are then checked once more with realpath.
 *
 * How a plain file gets its bytes (`--link-mode`, docs/cli.md): with `auto` (the default), when DIR is on
 * the store's file system the file shares the store's verified copy instead of costing a second full write:
 * a copy-on-write clone where the file system has them (btrfs, xfs, APFS), else a hard link, made
 * read-only because it is the store's copy. The shared file must be the very file whose bytes were
 * verified, unchanged since (device, inode, size and modification time of the one this pull wrote, or of
 * the stored one hashed just before); else, or when DIR is elsewhere or linking fails, and always with
 * `copy`, an independent file is written.
 */
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, open, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { TarFormatError, gunzipLimited, tarEntries } from '../archive/tar.js';
import { fileCopy, fileIdentity, fsError, sameFile, type BlobCopy, type FileIdentity, type OciLayout } from './layout.js';
import { ANNOTATION_TITLE, MEDIA, type Descriptor } from './manifest.js';
import type { LinkMode, OutputMethod } from './link-modes.js';

const TAR_TYPES: readonly string[] = [MEDIA.tarGzip, MEDIA.ociLayerTarGzip, 'application/vnd.docker.image.rootfs.diff.tar.gzip'];
/** Symbolic link hops while resolving one link target (Linux's own limit is 40). */
const MAX_LINK_HOPS = 40;

function unsafe(what: string, why: string): FlightDeckError {
  return new FlightDeckError('UNSAFE_PATH', `Refused ${JSON.stringify(what.slice(0, 300))}: ${why}.`, { details: { path: what.slice(0, 300) } });
}

/** A relative path that stays inside its root: no absolute path, drive, `..`, NUL or empty name. */
export function safeRelative(name: string, what = name): string {
  return safeParts(name, what).join(path.sep);
}

function safeParts(name: string, what: string): string[] {
  if (name.includes('\0')) throw unsafe(what, 'it contains a NUL byte');
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified)) throw unsafe(what, 'it is an absolute path');
  const parts = unified.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(what, 'it contains `..`');
  if (parts.length === 0) throw unsafe(what, 'it names no file');
  return parts;
}

export interface ExtractedFile {
  title: string;
  path: string;
  digest: string;
  size: number;
  unpacked: boolean;
  /** How a plain file was made (absent for an unpacked folder). */
  method?: OutputMethod;
}

interface OutputOptions {
  unpack: boolean;
  linkMode?: LinkMode | undefined;
}

/** A copy requested during the pull (OutputWriter.copies). */
interface CopyEntry {
  tmp: string;
  target: string;
  verified: boolean;
  share: boolean;
  stored?: FileIdentity;
}

interface Staged {
  tmp: string;
  target: string;
  dir: boolean;
}

const tempName = (target: string) => `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Write titled layers of a pulled artifact to `outDir`: all of them, or (on any error) nothing. */
export async function writeOutputs(store: OciLayout, layers: Descriptor[], outDir: string, opts: OutputOptions): Promise<ExtractedFile[]> {
  return new OutputWriter(outDir, opts).write(store, layers);
}

/**
 * `pull --output DIR` in two halves. During the pull, `copyTo` (PullOptions.copyTo) gives each titled
 * plain layer a temp file beside its target, which the download fills from the same bytes it hashes
 * into the store (BlobWriter's BlobCopy): the output costs no second read, hash or pass over the store.
 * Then `write` stages every layer not copied that way (already in the store, unpacked, a repeated digest)
 * through the store's verified read, and renames all of them into place only when every one is staged
 * and verified. A copy counts only once its writer verified size and digest; anything else is deleted.
 * `abort` (a failed pull) removes every temp file and DIR itself when this writer created it.
 */
export class OutputWriter {
  private readonly root: string;
  private createdRoot: string | undefined | null = null;
  /**
   * Copies requested during the pull, by digest: the temp file, its target, and whether it was verified.
   * A shared one (`share`) writes nothing: it learns which stored file holds the verified bytes (`stored`).
   */
  private readonly copies = new Map<string, CopyEntry>();
  private sharing: Promise<boolean> | undefined;

  constructor(
    outDir: string,
    private readonly opts: OutputOptions,
  ) {
    this.root = path.resolve(outDir);
  }

  /** Whether files share the store's copy: `auto`, and DIR on the store's file system. */
  private sharesStore(store: OciLayout): Promise<boolean> {
    this.sharing ??= (async () => {
      if ((this.opts.linkMode ?? 'auto') !== 'auto') return false;
      await this.ensureRoot();
      const [a, b] = await Promise.all([stat(store.root), stat(this.root)]).catch(() => [undefined, undefined]);
      return a !== undefined && b !== undefined && a.dev === b.dev;
    })();
    return this.sharing;
  }

  private async ensureRoot(): Promise<void> {
    if (this.createdRoot !== null) return;
    try {
      this.createdRoot = await mkdir(this.root, { recursive: true });
    } catch (err) {
      throw fsError(err, this.root);
    }
  }

  /**
   * For PullOptions.copyTo: a temp file for a titled plain layer, or undefined (`write` handles it). When
   * files share the store's copy, nothing is written: the copy only records the stored file's identity.
   */
  readonly copyTo = async (desc: Descriptor, store: OciLayout): Promise<BlobCopy | undefined> => {
    const title = desc.annotations?.[ANNOTATION_TITLE];
    if (!title || this.copies.has(desc.digest) || (this.opts.unpack && TAR_TYPES.includes(desc.mediaType))) return undefined;
    let rel: string;
    try {
      rel = safeRelative(title);
    } catch {
      return undefined; // refused by `write`, before anything is renamed
    }
    await this.ensureRoot();
    const target = path.join(this.root, rel);
    try {
      await assertInside(this.root, path.dirname(target), title);
    } catch {
      return undefined; // refused by `write`
    }
    await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => {
      throw fsError(err, target);
    });
    const share = await this.sharesStore(store);
    const entry: CopyEntry = {
      tmp: tempName(target),
      target,
      verified: false,
      share,
    };
    this.copies.set(desc.digest, entry);
    if (!share) return fileCopy(entry.tmp, () => (entry.verified = true));
    return {
      open: async () => {},
      write: async () => {},
      commit: async () => {},
      drop: async () => {},
      verified: () => (entry.verified = true),
      placed: (file) => (entry.stored = file),
    };
  };

  /** Stage what the pull did not copy, then move everything into place: all of it, or (on any error) nothing. */
  async write(store: OciLayout, layers: Descriptor[]): Promise<ExtractedFile[]> {
    // Bytes come through the store's verified read: the last chunk is released only once the digest is
    // confirmed, and a consumer that stops early (a tar error) still ends in BLOB_CORRUPT for a damaged blob.
    const read = (layer: Descriptor, use: (chunks: AsyncIterable<Uint8Array>) => Promise<void>) => store.withBlob(layer, use);
    const root = this.root;
    const staged: Staged[] = [];
    const out: ExtractedFile[] = [];
    try {
      // Check every title first so a bad one writes nothing.
      const plan = layers
        .filter((l) => l.annotations?.[ANNOTATION_TITLE])
        .map((l) => ({ layer: l, title: l.annotations?.[ANNOTATION_TITLE] as string, rel: safeRelative(l.annotations?.[ANNOTATION_TITLE] as string) }));
      await this.ensureRoot();
      for (const { layer, title, rel } of plan) {
        const unpack = this.opts.unpack && TAR_TYPES.includes(layer.mediaType);
        const target = path.join(root, unpack ? rel.replace(/(\.tar\.gz|\.tgz)$/, '') : rel);
        await assertInside(root, path.dirname(target), title);
        const copied = this.copies.get(layer.digest);
        if (!unpack && copied?.verified && !copied.share && copied.target === target && !staged.some((s) => s.tmp === copied.tmp)) {
          // Written from the verified download stream (and fsynced) during the pull.
          staged.push({ tmp: copied.tmp, target, dir: false });
          out.push({ title, path: target, digest: layer.digest, size: layer.size, unpacked: false, method: 'copy' });
          continue;
        }
        await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => {
          throw fsError(err, target);
        });
        const tmp = tempName(target);
        if (unpack) {
          staged.push({ tmp, target, dir: true });
          await read(layer, (chunks) => untarGz(chunks, tmp, title));
          out.push({ title, path: target, digest: layer.digest, size: layer.size, unpacked: true });
          continue;
        }
        staged.push({ tmp, target, dir: false });
        // The file this pull stored counts as verified only when nothing else stored the blob meanwhile.
        const stored = copied?.share && copied.verified ? copied.stored : undefined;
        let method: OutputMethod | undefined = (await this.sharesStore(store)) ? await shareStored(store, layer, tmp, stored) : undefined;
        if (!method) {
          await read(layer, (chunks) => writeStream(chunks, tmp));
          method = 'copy';
        }
        out.push({ title, path: target, digest: layer.digest, size: layer.size, unpacked: false, method });
      }
      // Everything is staged: move it into place.
      for (const s of staged) {
        if (s.dir) await rm(s.target, { recursive: true, force: true });
        await rename(s.tmp, s.target);
        // Renaming a hard link over another link to the same file does nothing (POSIX): the target already
        // is the store's verified copy (a second pull to the same folder), and the temp name goes.
        if (!s.dir) await rm(s.tmp, { force: true });
      }
      // Copies no layer took (a title refused later, a layer listed twice): not left behind.
      for (const c of this.copies.values()) if (!staged.some((s) => s.tmp === c.tmp)) await rm(c.tmp, { force: true });
    } catch (err) {
      for (const s of staged) await rm(s.tmp, { recursive: true, force: true });
      await this.abort();
      throw fsError(err, root);
    }
    return out;
  }

  /** Remove every temp file of this writer, and DIR when this writer created it. */
  async abort(): Promise<void> {
    for (const c of this.copies.values()) await rm(c.tmp, { force: true });
    if (this.createdRoot) await rm(this.createdRoot, { recursive: true, force: true });
  }
}

/**
 * Make `tmp` share the store's verified copy of `layer`: a clone, else a hard link (read-only: it is the
 * store's file), or undefined when the file system allows neither (the caller writes a copy). `stored` is
 * the file this pull verified and stored; without it the stored blob is hashed first (BLOB_CORRUPT,
 * quarantined, when wrong). Either way the shared file must be that very file (device and inode) with
 * the size and modification time it had when verified, so a file swapped in under the blob's name or
 * written in place meanwhile is never shared: the caller then reads the store verified (BLOB_CORRUPT).
 */
async function shareStored(store: OciLayout, layer: Descriptor, tmp: string, stored: FileIdentity | undefined): Promise<OutputMethod | undefined> {
  const src = store.blobPath(layer.digest);
  const verified = stored ?? (await store.verifiedIdentity(layer));
  const same = async (file: string) => sameFile(fileIdentity(await lstat(file, { bigint: true })), verified);
  try {
    // A clone is a new file holding the bytes `src` had when cloned: `src` must be the verified file then.
    await copyFile(src, tmp, constants.COPYFILE_FICLONE_FORCE);
    if (await same(src)) return 'clone';
  } catch {
    // No copy-on-write here (ext4, tmpfs, another file system): try a hard link.
  }
  await rm(tmp, { force: true });
  try {
    await link(src, tmp);
    if (await same(tmp)) {
      // Read-only, so an editor does not change the store's copy in place (Windows: a read-only file
      // could no longer be replaced or pruned by the store, so it is left writable there).
      if (process.platform !== 'win32') await chmod(tmp, 0o444);
      return 'hardlink';
    }
  } catch {
    // Another file system, no hard links there, or too many links: write a copy.
  }
  await rm(tmp, { force: true });
  return undefined;
}

async function writeStream(bytes: AsyncIterable<Uint8Array>, file: string): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    for await (const chunk of bytes) await fh.write(chunk);
    await fh.sync();
  } finally {
    await fh.close();
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

type Node = { kind: 'dir' } | { kind: 'file' } | { kind: 'link'; target: string };

/**
 * Where `target` (a link's text, relative to the folder `from`) leads in the extracted tree, following the
 * tree's links as the disk would; null when it leaves the tree. Missing names are taken literally.
 */
function resolveInTree(tree: ReadonlyMap<string, Node>, from: string[], target: string, hops = { n: 0 }): string[] | null {
  const at = [...from];
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return null;
      at.pop();
      continue;
    }
    at.push(part);
    const node = tree.get(at.join('/'));
    if (node?.kind === 'link') {
      if (++hops.n > MAX_LINK_HOPS) return null;
      at.pop();
      const next = resolveInTree(tree, at, node.target, hops);
      if (!next) return null;
      at.splice(0, at.length, ...next);
    }
  }
  return at;
}

/** Unpack a tar+gzip stream into `tmp` (which must not exist); on a refusal `tmp` is removed. */
async function untarGz(bytes: AsyncIterable<Uint8Array>, tmp: string, title: string): Promise<void> {
  await mkdir(tmp);
  try {
    const tree = new Map<string, Node>();
    const links: Array<{ rel: string; parts: string[]; target: string; what: string }> = [];
    for await (const e of tarEntries(gunzipLimited(bytes))) {
      const what = `${title}: ${e.path}`;
      if (e.type === '3' || e.type === '4' || e.type === '6') throw unsafe(what, 'device and FIFO entries are not extracted');
      if (e.type === '1') throw unsafe(what, 'hard links are not extracted');
      if (e.type === 'other') continue; // e.g. extended attributes: skipped
      // The archive's own root (`./`) is the target folder itself.
      if (
        e.type === '5' &&
        e.path
          .replace(/\\/g, '/')
          .split('/')
          .every((p) => p === '' || p === '.')
      )
        continue;
      // Everything is checked against what the archive has already made before anything is written.
      const parts = safeParts(e.path, what);
      const rel = parts.join('/');
      for (let i = 1; i < parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        const node = tree.get(prefix);
        if (node?.kind === 'link') throw unsafe(what, `it passes through the link ${prefix}`);
        if (node?.kind === 'file') throw unsafe(what, `${prefix} is a file in the archive`);
      }
      const existing = tree.get(rel);
      const kind = e.type === '5' ? 'dir' : e.type === '2' ? 'link' : 'file';
      if (existing && (existing.kind !== kind || kind === 'link'))
        throw unsafe(what, `it replaces the ${existing.kind} of the same name earlier in the archive`);
      if (kind === 'link') {
        if (e.linkname === '' || e.linkname.includes('\0')) throw unsafe(what, 'its link target is empty or holds a NUL byte');
        if (e.linkname.startsWith('/') || e.linkname.includes('\\') || /^[A-Za-z]:/.test(e.linkname))
          throw unsafe(what, `its link target ${e.linkname} is absolute or not portable`);
      }
      for (let i = 1; i < parts.length; i++) tree.set(parts.slice(0, i).join('/'), { kind: 'dir' });
      const dest = path.join(tmp, ...parts);
      await mkdir(path.dirname(dest), { recursive: true });
      if (kind === 'dir') {
        tree.set(rel, { kind: 'dir' });
        await mkdir(dest, { recursive: true });
      } else if (kind === 'link') {
        tree.set(rel, { kind: 'link', target: e.linkname });
        links.push({ rel, parts, target: e.linkname, what }); // created after every file and directory
      } else {
        tree.set(rel, { kind: 'file' });
        // No link exists in tmp yet; O_NOFOLLOW all the same.
        const fh = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, e.mode & 0o755);
        try {
          for await (const chunk of e.body) await fh.write(chunk);
        } finally {
          await fh.close();
        }
      }
    }
    // Every link target, resolved through the whole tree (other links included), before any is created.
    for (const l of links) {
      if (!resolveInTree(tree, l.parts.slice(0, -1), l.target)) throw unsafe(l.what, `its link target ${l.target} leads outside the output folder`);
    }
    for (const l of links) await symlink(l.target, path.join(tmp, ...l.parts));
    // And once more against the disk.
    const realTmp = await realpath(tmp);
    for (const l of links) {
      const real = await realpath(path.join(tmp, ...l.parts)).catch(() => undefined);
      if (real !== undefined && real !== realTmp && !real.startsWith(realTmp + path.sep))
        throw unsafe(l.what, `its link target ${l.target} leads outside the output folder`);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof FlightDeckError) throw err;
    if (err instanceof TarFormatError) {
      throw new FlightDeckError('INVALID_INPUT', `${title} is not a valid tar+gzip archive: ${err.message} at byte offset ${err.offset}.`, { cause: err });
    }
    throw fsError(err, tmp);
  }
}
