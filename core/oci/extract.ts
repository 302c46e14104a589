/**
 * `pull --output DIR`: write each titled layer as DIR/<title> (like `oras pull`) and, only on request,
 * unpack tar+gzip layers into DIR/<title without .tar.gz>/. Refuses absolute paths, `..`, links that
 * escape DIR, hard links and device/FIFO entries; a refused archive leaves nothing behind.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, realpath, rename, rm, symlink, lstat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { FlightDeckError } from '../errors.js';
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
    if (unpack) await untarGz(store.blobPath(layer.digest), target, title);
    else {
      const tmp = `${target}.partial-${process.pid}`;
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await copyFile(store.blobPath(layer.digest), tmp);
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw fsError(err, target);
      }
    }
    out.push({ title, path: target, digest: layer.digest, size: layer.size, unpacked: unpack });
  }
  return out;
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

/** Minimal streaming tar reader over a gunzipped file. */
async function* tarEntries(file: string): AsyncGenerator<{ name: string; type: string; size: number; linkname: string; mode: number; body: AsyncGenerator<Buffer> }> {
  const it = createReadStream(file).pipe(createGunzip())[Symbol.asyncIterator]();
  let buf = Buffer.alloc(0);
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length < n) {
      const r = await it.next();
      if (r.done) return false;
      buf = Buffer.concat([buf, r.value as Buffer]);
    }
    return true;
  };
  const str = (b: Buffer, start: number, len: number) => {
    const s = b.subarray(start, start + len);
    const nul = s.indexOf(0);
    return (nul >= 0 ? s.subarray(0, nul) : s).toString('utf8');
  };
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (;;) {
    if (!(await fill(512))) return;
    const header = buf.subarray(0, 512);
    buf = buf.subarray(512);
    if (header.every((b) => b === 0)) return;
    const size = parseInt(str(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48) === '\0' ? '0' : String.fromCharCode(header[156] ?? 48);
    const prefix = str(header, 345, 155);
    let name = prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100);
    const linkname = str(header, 157, 100);
    const mode = parseInt(str(header, 100, 8).trim() || '644', 8);
    const padded = Math.ceil(size / 512) * 512;
    if (type === 'x' || type === 'g' || type === 'L') {
      if (!(await fill(padded))) throw new FlightDeckError('INVALID_INPUT', 'Truncated tar archive.');
      const data = buf.subarray(0, size).toString('utf8');
      buf = buf.subarray(padded);
      if (type === 'L') longName = data.replace(/\0.*$/s, '');
      else if (type === 'x') {
        pax = {};
        for (const line of data.split('\n')) {
          const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
          if (m?.[1]) pax[m[1]] = m[2] ?? '';
        }
      }
      continue;
    }
    name = pax.path ?? longName ?? name;
    const link = pax.linkpath ?? linkname;
    pax = {};
    longName = undefined;
    let remaining = size;
    async function* body(): AsyncGenerator<Buffer> {
      while (remaining > 0) {
        if (buf.length === 0 && !(await fill(1))) throw new FlightDeckError('INVALID_INPUT', 'Truncated tar archive.');
        const take = Math.min(remaining, buf.length);
        yield buf.subarray(0, take);
        buf = buf.subarray(take);
        remaining -= take;
      }
    }
    const gen = body();
    yield { name, type, size, linkname: link, mode, body: gen };
    // Skip whatever the consumer did not read, then the padding.
    for await (const _ of gen) void _;
    const pad = padded - size;
    if (pad > 0) {
      if (!(await fill(pad))) throw new FlightDeckError('INVALID_INPUT', 'Truncated tar archive.');
      buf = buf.subarray(pad);
    }
  }
}

/** Unpack into a temp dir next to `target`, then rename; on any refusal the temp dir is removed. */
async function untarGz(file: string, target: string, title: string): Promise<void> {
  const tmp = `${target}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for await (const e of tarEntries(file)) {
      const what = `${title}: ${e.name}`;
      if (e.type === '3' || e.type === '4' || e.type === '6') throw unsafe(what, 'device and FIFO entries are not extracted');
      if (e.type === '1') throw unsafe(what, 'hard links are not extracted');
      // The archive's own root (`./`) is the target folder itself.
      if (e.type === '5' && e.name.replace(/\\/g, '/').split('/').every((p) => p === '' || p === '.')) continue;
      const rel = safeRelative(e.name, what);
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
      } else if (e.type === '0' || e.type === '7') {
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
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof FlightDeckError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new FlightDeckError('INVALID_INPUT', `${title} is not a valid tar+gzip archive.`, { cause: err });
    }
    throw fsError(err, target);
  }
}
