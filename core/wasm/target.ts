/**
 * Input resolution for `inspect` and `check`: a target names one or more modules and, for bundles and
 * OCI artifacts, annotations. Each kind of target is a walker that streams its modules to a visitor:
 *   oci:<dir>[:tag|@digest]  an OCI image layout (read with core/oci/layout.ts, layers verified while read)
 *   <dir>                    every *.wasm below it, plus manifest.json annotations
 *   <file>                   a .wasm module/component, or a tar+gzip bundle (recognised by its bytes)
 * A registry reference (host[:port]/repo[:tag|@digest]) is handed to `InspectOptions.resolveReference`,
 * which the registry client provides: pull into the content store, return an `oci:` target for the
 * stored layout, and that layout is walked like any other. Without a resolver such references fail with
 * REFERENCE_INVALID and a hint to copy the artifact into a layout.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import { isRegistryReference, parseLayoutReference } from '../oci/reference.js';
import { OciLayout } from '../oci/layout.js';
import { ANNOTATION_TITLE, parseManifest, type Descriptor } from '../oci/manifest.js';
import type { InspectResult, WasmReport } from './schema.js';
import { parseWasm, readsWhole } from './parser.js';
import { fileSource, readShared } from './reader.js';
import { engineWorker } from './engine.js';
import { walkTarGz, type BundleLimits, DEFAULT_BUNDLE_LIMITS } from './bundle.js';

export interface InspectOptions {
  signal?: AbortSignal;
  crossCheck?: boolean;
  bundleLimits?: BundleLimits;
  /** Called after each module, for progress. */
  onModule?: (path: string, done: number) => void;
  /** Pulls a registry reference into an OCI layout and returns its `oci:` target (the registry client). */
  resolveReference?: (reference: string, signal?: AbortSignal) => Promise<string>;
}

/** `file`: the module is this whole file on disk (not inside a bundle or layout), so it may be read at once. */
type Visit = (path: string, bytes: AsyncIterable<Uint8Array>, size: number | undefined, file?: string) => Promise<void>;
type InputKind = InspectResult['inputKind'];

interface Walked {
  inputKind: InputKind;
  annotations: Record<string, string>;
}

const MANIFEST_NAMES = new Set(['manifest.json', 'flight-manifest.json']);
const MAX_FILES = 10_000;

/** Inspect every module a target names. */
export async function inspectTarget(target: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const modules: InspectResult['modules'] = [];
  const visit: Visit = async (modulePath, bytes, size, file) => {
    throwIfAborted(opts.signal);
    const name = modulePath === target ? target : `${target}!${modulePath}`;
    const crossCheck = opts.crossCheck !== false;
    let report: WasmReport | undefined;
    let digest: string | undefined;
    if (file !== undefined && size !== undefined && readsWhole(size)) {
      // A big module file is read into one buffer (shared memory), each slice hashed as it lands while the
      // next one is read, then decoded from that buffer: nothing read or copied twice, and faster than
      // streaming it in chunks even when nothing else needs the whole. With the cross-check on, the
      // engine's worker boots while the file is read and validates the whole while this thread decodes it:
      // both cores busy.
      const engine = crossCheck ? engineWorker() : undefined;
      const hash = createHash('sha256');
      let whole: Uint8Array;
      try {
        const read = readShared(file, size);
        for await (const slice of read.slices) hash.update(slice);
        whole = await read.whole;
      } catch (err) {
        engine?.cancel();
        throw err;
      }
      const verdict = engine?.check(whole);
      try {
        report = await parseWasm(oneChunk(whole), { name, size, crossCheck, verdict });
        digest = hash.digest('hex');
      } finally {
        verdict?.cancel();
      }
    }
    if (!report || digest === undefined) {
      // Any other input: hashed as it streams.
      const hash = createHash('sha256');
      const hashed = async function* () {
        for await (const chunk of bytes) {
          hash.update(chunk);
          yield chunk;
        }
      };
      report = await parseWasm(hashed(), { name, ...(size === undefined ? {} : { size }), crossCheck });
      digest = hash.digest('hex');
    }
    modules.push({ path: modulePath, sha256: `sha256:${digest}`, report });
    opts.onModule?.(modulePath, modules.length);
  };
  const walked = await walk(target, visit, opts);
  if (modules.length === 0) {
    throw new FlightDeckError('INVALID_INPUT', `${target} holds no WebAssembly module.`, {
      hint: 'Point at a .wasm file, a directory or bundle with .wasm files, or an OCI layout with a wasm layer.',
      details: { target },
    });
  }
  return { target, inputKind: walked.inputKind, annotations: walked.annotations, modules };
}

/** A local path that does not exist: about the file, not about `ls` (which lists registries). */
export const MISSING_FILE_HINT =
  'No such file on this machine: check the path (a relative path starts from the current folder). A bundle in a registry or an OCI folder is named by its reference (host/repo:tag or oci:<dir>:<ref>).';

async function walk(target: string, visit: Visit, opts: InspectOptions): Promise<Walked> {
  if (target.startsWith('oci:')) return walkOciLayout(target, visit, opts);
  const info = await stat(target).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && isRegistryReference(target)) {
      if (opts.resolveReference) return undefined;
      throw new FlightDeckError('REFERENCE_INVALID', `${target} is not a file, and registry references are not supported by inspect/check yet.`, {
        hint: 'Copy the artifact into an OCI layout (e.g. `skopeo copy docker://HOST/REPO:TAG oci:DIR:TAG`) and pass oci:DIR:TAG.',
        details: { target },
      });
    }
    throw new FlightDeckError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `Cannot read ${target}: ${err.message}`, {
      cause: err,
      ...(err.code === 'ENOENT' ? { hint: MISSING_FILE_HINT } : {}),
      details: { target },
    });
  });
  if (!info) {
    const layout = await opts.resolveReference!(target, opts.signal);
    return walkOciLayout(layout, visit, opts);
  }
  if (info.isDirectory()) return walkDirectory(target, visit, opts);
  if (await isGzip(target)) {
    const annotations: Record<string, string> = {};
    await walkBundle(target, fileChunks(target), visit, annotations, opts);
    return { inputKind: 'bundle', annotations };
  }
  await visit(target, fileChunks(target), info.size, target);
  return { inputKind: 'file', annotations: {} };
}

/** A file's bytes: one read for files up to 16 MiB, 1 MiB chunks beyond (see fileSource). */
function fileChunks(file: string): AsyncGenerator<Uint8Array> {
  return fileSource(file);
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function walkBundle(
  name: string,
  source: AsyncIterable<Uint8Array>,
  visit: Visit,
  annotations: Record<string, string>,
  opts: InspectOptions,
): Promise<void> {
  const limits = opts.bundleLimits ?? DEFAULT_BUNDLE_LIMITS;
  await walkTarGz(
    name,
    source,
    async (entry) => {
      if (entry.path.endsWith('.wasm')) {
        await visit(entry.path, entry.bytes, entry.size);
      } else if (MANIFEST_NAMES.has(entry.path) && entry.size <= limits.maxMetadataBytes) {
        const parts: Uint8Array[] = [];
        for await (const chunk of entry.bytes) parts.push(chunk);
        Object.assign(annotations, manifestAnnotations(`${name}!${entry.path}`, Buffer.concat(parts).toString('utf8'), 'BUNDLE_MALFORMED'));
      }
    },
    limits,
  );
}

/** flight.* annotations from a bundle manifest: `{ "annotations": {...} }` or top-level flight.* keys. */
function manifestAnnotations(name: string, text: string, code: 'BUNDLE_MALFORMED' | 'INVALID_INPUT'): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FlightDeckError(code, `${name} is not valid JSON: ${(err as Error).message}`, { details: { input: name } });
  }
  if (!json || typeof json !== 'object') return {};
  const obj = json as Record<string, unknown>;
  const source = obj.annotations && typeof obj.annotations === 'object' ? (obj.annotations as Record<string, unknown>) : obj;
  return stringEntries(source, (k) => k.startsWith('flight.'));
}

function stringEntries(obj: Record<string, unknown>, keep: (key: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (keep(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = String(v);
  return out;
}

async function walkDirectory(dir: string, visit: Visit, opts: InspectOptions): Promise<Walked> {
  const files: string[] = [];
  const scan = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await scan(child);
      else if (e.isFile() && e.name.endsWith('.wasm')) files.push(child);
      if (files.length > MAX_FILES)
        throw new FlightDeckError('INVALID_INPUT', `${dir} holds more than ${MAX_FILES} .wasm files.`, { details: { target: dir } });
    }
  };
  await scan('');
  let annotations: Record<string, string> = {};
  for (const name of MANIFEST_NAMES) {
    const file = path.join(dir, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) annotations = { ...annotations, ...manifestAnnotations(file, text, 'INVALID_INPUT') };
  }
  for (const rel of files) {
    throwIfAborted(opts.signal);
    const file = path.join(dir, rel);
    await visit(rel, fileChunks(file), (await lstat(file)).size, file);
  }
  return { inputKind: 'directory', annotations };
}

// --- OCI image layout ---------------------------------------------------------------------------

const WASM_MEDIA = /wasm/i;
const TARGZ_MEDIA = /tar\+gzip|tar\.gzip|\.tar\.gz$/i;

/**
 * Walk `oci:<dir>[:tag|@digest]` through the content store's layout reader (core/oci/layout.ts): the
 * index entry and manifest are read and verified there, layers stream from `blobs/` and are verified here
 * while they are decoded.
 */
export async function walkOciLayout(target: string, visit: Visit, opts: InspectOptions): Promise<Walked> {
  const { dir, tag, digest } = parseLayoutReference(target);
  if (!dir) throw new FlightDeckError('REFERENCE_INVALID', `${target} names no directory.`, { details: { target } });
  // The content store's own folder (the resolver's answer) opens as the store: see OciLayout.isStore.
  const layout = await OciLayout.open(dir, { create: false });
  const entry = await layout.resolve({ tag, digest });
  const manifest = parseManifest(await layout.readBlob(entry.digest), entry.mediaType || undefined, target);
  if (manifest.kind !== 'manifest') {
    throw new FlightDeckError('MANIFEST_INVALID', `${target}: manifest ${entry.digest} has no layers (an image index is not supported here).`, {
      details: { target },
    });
  }
  const annotations = stringEntries({ ...(entry.annotations ?? {}), ...manifest.annotations });
  for (const layer of manifest.layers) {
    throwIfAborted(opts.signal);
    const title = layer.annotations?.[ANNOTATION_TITLE] ?? layer.digest;
    if (WASM_MEDIA.test(layer.mediaType) && !TARGZ_MEDIA.test(layer.mediaType)) {
      await verifiedBlob(layout, layer, target, (chunks) => visit(title, chunks, layer.size));
    } else if (TARGZ_MEDIA.test(layer.mediaType)) {
      await verifiedBlob(layout, layer, target, (chunks) =>
        walkBundle(`${target}!${title}`, chunks, (p, b, s) => visit(`${title}!${p}`, b, s), annotations, opts),
      );
    }
  }
  return { inputKind: 'oci-layout', annotations };
}

/**
 * A layer's bytes through the layout's verified read (hashed while they stream, the last chunk held back
 * until the digest is confirmed): a corrupt blob is BLOB_CORRUPT even when the decoder fails on it first;
 * a missing one is LAYOUT_INVALID.
 */
async function verifiedBlob(layout: OciLayout, d: Descriptor, target: string, use: (chunks: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
  try {
    await layout.withBlob(d, use);
  } catch (err) {
    if (err instanceof FlightDeckError && err.code === 'NOT_FOUND' && (err.details as { digest?: string } | undefined)?.digest === d.digest) {
      throw new FlightDeckError('LAYOUT_INVALID', `${target}: blob ${d.digest} is missing from the layout.`, { cause: err, details: { target } });
    }
    throw err;
  }
}
