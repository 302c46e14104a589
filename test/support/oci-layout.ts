import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A minimal reader of an OCI image layout, for tests that check layouts written by scripts or tools. */
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
