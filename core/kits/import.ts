/**
 * Open a kit (a layout directory, or a tar extracted into a staging directory), verify it, and import it
 * into the content store all or nothing: blobs first (renamed from the staging directory, or copied
 * through the verifying BlobWriter), then one atomic index.json update; any failure removes the blobs it
 * added. Blobs the store already holds are hard-linked into the staging directory and never rewritten.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import type { KitImport, KitVerify } from './schema.js';
import { ANNOTATION_KIT_REF } from '../oci/access.js';
import { BlobWriter, OciLayout, fsError } from '../oci/layout.js';
import { ANNOTATION_REF_NAME } from '../oci/manifest.js';
import type { Policy } from './signatures.js';
import { KIT_LOCK_FILE, extractKitTar, type Extracted } from './tar.js';
import { verifyKitDir } from './verify.js';

export interface OpenedKit {
  dir: string;
  extracted: Extracted | undefined;
  /** Remove the staging directory (no-op for a directory kit). */
  close(): Promise<void>;
}

/** A kit directory as is, or a kit tar extracted into a new directory under `stagingParent`. */
export async function openKit(kit: string, stagingParent: string, store?: OciLayout): Promise<OpenedKit> {
  const st = await stat(kit).catch((err: NodeJS.ErrnoException) => {
    throw new FlightDeckError('NOT_FOUND', `Cannot read the kit ${kit}: ${err.message}`, { cause: err, details: { kit } });
  });
  if (st.isDirectory()) return { dir: kit, extracted: undefined, close: async () => {} };
  const dir = await mkdir(stagingParent, { recursive: true })
    .then(() => mkdtemp(path.join(stagingParent, 'kit-')))
    .catch((err: unknown) => {
      throw fsError(err, stagingParent);
    });
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    const extracted = await extractKitTar(kit, dir, store ? (d) => store.blobPath(d) : undefined);
    return { dir, extracted, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function verifyKit(
  kit: string,
  opts: { paths: FlightDeckPaths; policy: Policy | undefined; signal?: AbortSignal | undefined; onProgress?: (done: number, total: number) => void },
): Promise<KitVerify> {
  const opened = await openKit(kit, os.tmpdir());
  try {
    return await verifyKitDir(kit, opened.dir, { ...opts, ...(opened.extracted ? { hashed: opened.extracted.hashed } : {}) });
  } finally {
    await opened.close();
  }
}

/** Throw the report's first problem as an error (KIT_INVALID, or the signature code). */
export function refuse(report: KitVerify, action: string): never {
  const first = report.problems[0]!;
  const code = first.code === 'SIGNATURE_REQUIRED' || first.code === 'SIGNATURE_INVALID' ? first.code : 'KIT_INVALID';
  const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem(s); \`flightdeck kit verify\` lists them)` : '';
  throw new FlightDeckError(code, `${report.kit}: ${first.message}${more} Nothing was ${action}.`, {
    details: { kit: report.kit, problems: report.problems.slice(0, 20) },
  });
}

export async function importKit(
  kit: string,
  store: OciLayout,
  opts: { paths: FlightDeckPaths; policy: Policy | undefined; signal?: AbortSignal | undefined; onProgress?: (done: number, total: number) => void },
): Promise<KitImport> {
  const opened = await openKit(kit, store.ingestDir(), store);
  const added: string[] = [];
  try {
    const report = await verifyKitDir(kit, opened.dir, { ...opts, ...(opened.extracted ? { hashed: opened.extracted.hashed } : {}) });
    if (!report.ok) refuse(report, 'imported');
    const layout = await OciLayout.open(opened.dir, { create: false });
    const lockRegistry = await readLockRegistry(opened.dir);
    let present = 0;
    let bytesAdded = 0;
    for (const b of await layout.listBlobs()) {
      if (await store.has({ digest: b.digest, size: b.size })) {
        present++;
        continue;
      }
      if (opened.extracted) {
        await rename(b.file, store.blobPath(b.digest)).catch((err: unknown) => {
          throw fsError(err, store.blobPath(b.digest));
        });
      } else {
        const w = new BlobWriter(store, { digest: b.digest, size: b.size, mediaType: 'application/octet-stream' }, { unique: true });
        await w.prepare({ resume: false });
        try {
          await w.write(createReadStream(b.file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>);
          await w.commit();
        } catch (err) {
          await w.discard();
          throw err;
        }
      }
      added.push(b.digest);
      bytesAdded += b.size;
    }
    const { manifests } = await layout.readIndex();
    const refs = manifests.map((e) => {
      const ref = e.annotations?.[ANNOTATION_REF_NAME] ?? e.digest;
      return { entry: e, ref, name: lockRegistry && !ref.startsWith('sha') ? `${lockRegistry}/${ref}` : ref };
    });
    const names = new Set(refs.map((r) => r.name));
    await store.updateIndex((entries) => [
      ...entries.filter((e) => !names.has(e.annotations?.[ANNOTATION_REF_NAME] ?? '')),
      ...refs.map(({ entry, ref, name }) => ({
        mediaType: entry.mediaType,
        digest: entry.digest,
        size: entry.size,
        ...(entry.artifactType ? { artifactType: entry.artifactType } : {}),
        annotations: { [ANNOTATION_KIT_REF]: ref, [ANNOTATION_REF_NAME]: name },
      })),
    ]);
    return { kit, store: store.root, refs: refs.map((r) => r.name).sort(), blobsAdded: added.length, blobsPresent: present, bytesAdded };
  } catch (err) {
    for (const d of added) await unlink(store.blobPath(d)).catch(() => {});
    throw err;
  } finally {
    await opened.close();
  }
}

async function readLockRegistry(dir: string): Promise<string | null> {
  const text = await readFile(path.join(dir, KIT_LOCK_FILE), 'utf8').catch(() => undefined);
  if (!text) return null;
  return (JSON.parse(text) as { source?: { registry?: string | null } }).source?.registry ?? null;
}
