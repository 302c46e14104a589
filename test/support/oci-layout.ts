import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A minimal reader and writer of OCI image layouts, for tests (independent of core/oci). */
export interface LayoutRef {
  name: string;
  digest: string;
  mediaType: string;
  size: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function readLayout(dir: string) {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: Array<Descriptor> };
  const refs: LayoutRef[] = index.manifests.map((m) => ({
    name: m.annotations?.['org.opencontainers.image.ref.name'] ?? '',
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
  }));
  const blob = (digest: string): Buffer => readFileSync(path.join(dir, 'blobs', ...digest.split(':')));
  const manifest = (ref: string): ImageManifest => {
    const r = refs.find((x) => x.name === ref);
    if (!r) throw new Error(`no ref ${ref} in ${dir}`);
    return JSON.parse(blob(r.digest).toString('utf8')) as ImageManifest;
  };
  return { refs, blob, manifest, layout: JSON.parse(readFileSync(path.join(dir, 'oci-layout'), 'utf8')) as { imageLayoutVersion: string } };
}

export const sha256 = (buf: Buffer): string => `sha256:${createHash('sha256').update(buf).digest('hex')}`;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function write(dir: string, name: string, bytes: Uint8Array | string): void {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/** An OCI image layout with one manifest (tagged) whose layers are the given blobs. */
export function ociLayout(
  dir: string,
  tag: string,
  layers: Array<{ mediaType: string; bytes: Uint8Array; title: string }>,
  annotations: Record<string, string>,
): void {
  write(dir, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blob = (b: Uint8Array) => {
    write(dir, `blobs/sha256/${sha(b)}`, b);
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const config = blob(Buffer.from('{}'));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.flight.bundle.v1',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: l.mediaType, ...blob(l.bytes), annotations: { 'org.opencontainers.image.title': l.title } })),
      annotations,
    }),
  );
  const m = blob(manifest);
  write(
    dir,
    'index.json',
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
}
