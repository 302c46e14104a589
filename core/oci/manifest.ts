/**
 * Manifest media types and a strict parser for the four manifest kinds Flight Deck reads: OCI image
 * manifest, OCI index, Docker v2 schema 2 manifest and Docker manifest list.
 */
import { createHash } from 'node:crypto';
import { FlightDeckError } from '../errors.js';
import { isDigest } from './reference.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  empty: 'application/vnd.oci.empty.v1+json',
  wasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  wasm: 'application/wasm',
  tarGzip: 'application/tar+gzip',
  ociLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const MANIFEST_TYPES: readonly string[] = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList];
export const INDEX_TYPES: readonly string[] = [MEDIA.ociIndex, MEDIA.dockerList];
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
/** 4 MiB, the cap the distribution spec suggests and most registries enforce. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** The OCI 1.1 empty config `{}`. */
export const EMPTY_CONFIG = {
  mediaType: MEDIA.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string> | undefined;
  artifactType?: string | undefined;
  platform?: { os?: string; architecture?: string; variant?: string } | undefined;
  urls?: string[] | undefined;
  data?: string | undefined;
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  artifactType: string | undefined;
  config: Descriptor;
  layers: Descriptor[];
  subject: Descriptor | undefined;
  annotations: Record<string, string>;
}

export interface IndexManifest {
  kind: 'index';
  mediaType: string;
  artifactType: string | undefined;
  manifests: Descriptor[];
  annotations: Record<string, string>;
}

export type Manifest = ImageManifest | IndexManifest;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function bad(where: string, why: string): FlightDeckError {
  return new FlightDeckError('MANIFEST_INVALID', `Manifest ${where}: ${why}.`, { details: { manifest: where } });
}

function annotations(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, 'annotations must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw bad(where, `annotation ${JSON.stringify(k)} is not a string`);
    out[k] = v;
  }
  return out;
}

export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(where, 'descriptor is not an object');
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType.length === 0 || d.mediaType.length > 255) throw bad(where, 'descriptor mediaType missing');
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw bad(where, `descriptor digest ${JSON.stringify(String(d.digest).slice(0, 140))} is not a valid digest`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(where, 'descriptor size must be a non-negative integer');
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  const ann = annotations(d.annotations, where);
  if (Object.keys(ann).length > 0) out.annotations = ann;
  if (typeof d.artifactType === 'string') out.artifactType = d.artifactType;
  if (d.platform && typeof d.platform === 'object') out.platform = d.platform as Descriptor['platform'];
  if (typeof d.data === 'string') out.data = d.data;
  return out;
}

/**
 * Parse manifest bytes. `contentType` is the registry's Content-Type (or the descriptor's media type);
 * generic JSON types fall back to the document's own `mediaType`.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, where: string): Manifest {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) {
    throw new FlightDeckError('MANIFEST_TOO_LARGE', `Manifest ${where} is ${bytes.byteLength} bytes, over the 4 MiB cap.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new FlightDeckError('MANIFEST_INVALID', `Manifest ${where} is not valid JSON: ${(err as Error).message}.`, { cause: err });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad(where, 'not a JSON object');
  const m = json as Record<string, unknown>;
  const declared = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const generic = !header || header === 'application/json' || header === 'application/octet-stream' || header === 'text/plain';
  let mediaType = generic ? declared : header;
  if (!mediaType) mediaType = Array.isArray(m.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
  if (!MANIFEST_TYPES.includes(mediaType)) {
    throw new FlightDeckError(
      'MEDIA_TYPE_UNSUPPORTED',
      `Manifest ${where} has media type ${JSON.stringify(mediaType.slice(0, 120))}, which Flight Deck does not read.`,
      {
        details: { mediaType: mediaType.slice(0, 200) },
      },
    );
  }
  if (declared !== undefined && declared !== mediaType) {
    throw bad(where, `mediaType ${JSON.stringify(declared)} differs from the served type ${JSON.stringify(mediaType)}`);
  }
  if (m.schemaVersion !== 2) throw bad(where, 'schemaVersion must be 2');
  const artifactType = typeof m.artifactType === 'string' ? m.artifactType : undefined;
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(m.manifests)) throw bad(where, 'an index needs a manifests array');
    return {
      kind: 'index',
      mediaType,
      artifactType,
      manifests: m.manifests.map((d, i) => parseDescriptor(d, `${where} manifests[${i}]`)),
      annotations: annotations(m.annotations, where),
    };
  }
  if (!Array.isArray(m.layers)) throw bad(where, 'an image manifest needs a layers array');
  return {
    kind: 'manifest',
    mediaType,
    artifactType,
    config: parseDescriptor(m.config, `${where} config`),
    layers: m.layers.map((d, i) => parseDescriptor(d, `${where} layers[${i}]`)),
    subject: m.subject === undefined ? undefined : parseDescriptor(m.subject, `${where} subject`),
    annotations: annotations(m.annotations, where),
  };
}
