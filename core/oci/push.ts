/**
 * Push files as an OCI artifact: one layer per file (title = file name), the OCI 1.1 empty config, an
 * image manifest with `artifactType` and annotations, tagged. Blobs the registry already has are skipped
 * (HEAD); `mountFrom` repositories are tried for a cross-repo mount before uploading.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import type { RegistryClient } from './client.js';
import { ANNOTATION_CREATED, ANNOTATION_TITLE, EMPTY_CONFIG, MEDIA, digestOf, type Descriptor } from './manifest.js';
import { mapLimit } from '../concurrency.js';
import type { PushEvent } from './schema.js';

export interface PushFile {
  path: string;
  mediaType?: string | undefined;
}

export interface PushOptions {
  artifactType?: string | undefined;
  annotations?: Record<string, string> | undefined;
  /** Upload in PATCH chunks of this size (0: monolithic POST then PUT). */
  chunkSize?: number | undefined;
  mountFrom?: string[] | undefined;
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: (e: PushEvent) => void;
}

export interface PushResult {
  reference: string;
  digest: string;
  size: number;
  layers: Descriptor[];
  uploaded: number;
  skipped: number;
  mounted: number;
}

async function describeFile(file: PushFile): Promise<Descriptor> {
  let st;
  try {
    st = await stat(file.path);
  } catch (err) {
    throw new FlightDeckError('NOT_FOUND', `Cannot read ${file.path}: ${(err as Error).message}.`, { cause: err, details: { path: file.path } });
  }
  if (!st.isFile()) throw new FlightDeckError('INVALID_INPUT', `${file.path} is not a regular file.`, { details: { path: file.path } });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file.path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return {
    mediaType: file.mediaType ?? guessMediaType(file.path),
    digest: `sha256:${hash.digest('hex')}`,
    size: st.size,
    annotations: { [ANNOTATION_TITLE]: path.basename(file.path) },
  };
}

export function guessMediaType(file: string): string {
  if (file.endsWith('.wasm')) return MEDIA.wasmLayer;
  if (file.endsWith('.tar.gz') || file.endsWith('.tgz')) return MEDIA.tarGzip;
  if (file.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

export async function pushFiles(client: RegistryClient, repo: string, tag: string, files: PushFile[], opts: PushOptions = {}): Promise<PushResult> {
  const { signal } = opts;
  if (files.length === 0) throw new FlightDeckError('USAGE', 'Give at least one FILE to push.');
  const layers: Descriptor[] = [];
  const sources = new Map<string, string>();
  for (const f of files) {
    const d = await describeFile(f);
    layers.push(d);
    sources.set(d.digest, f.path);
  }
  let uploaded = 0;
  let skipped = 0;
  let mounted = 0;
  const configBytes = Buffer.from(EMPTY_CONFIG.data, 'base64');
  const config: Descriptor = { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size };
  const unique = [...new Map([config, ...layers].map((d) => [d.digest, d])).values()];
  await mapLimit(unique, opts.concurrency ?? 3, async (d) => {
    throwIfAborted(signal);
    const title = d.annotations?.[ANNOTATION_TITLE] ?? 'config';
    if (await client.hasBlob(repo, d.digest, signal)) {
      skipped++;
      opts.onEvent?.({ phase: 'exists', digest: d.digest, title, done: d.size, total: d.size });
      return;
    }
    for (const from of opts.mountFrom ?? []) {
      if (from !== repo && (await client.mountBlob(repo, d.digest, from, signal))) {
        mounted++;
        opts.onEvent?.({ phase: 'mounted', digest: d.digest, title, done: d.size, total: d.size });
        return;
      }
    }
    const file = sources.get(d.digest);
    let done = 0;
    await client.pushBlob(
      repo,
      d,
      (start, end) => (file ? createReadStream(file, { start, end: end - 1, highWaterMark: 1024 * 1024 }) : Readable.from([configBytes.subarray(start, end)])),
      {
        chunkSize: opts.chunkSize ?? 0,
        signal,
        onBytes: (n) => opts.onEvent?.({ phase: 'bytes', digest: d.digest, title, done: (done += n), total: d.size }),
      },
    );
    uploaded++;
    opts.onEvent?.({ phase: 'done', digest: d.digest, title, done: d.size, total: d.size });
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    artifactType: opts.artifactType ?? 'application/vnd.flightdeck.artifact.v1',
    config,
    layers,
    annotations: { [ANNOTATION_CREATED]: new Date().toISOString(), ...opts.annotations },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(bytes);
  await client.putManifest(repo, tag, bytes, MEDIA.ociManifest, signal);
  return { reference: `${client.registry}/${repo}:${tag}`, digest, size: bytes.length, layers, uploaded, skipped, mounted };
}
