/** Builds OCI image layouts on disk for tests (the registry client is not needed to make one). */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function write(dir: string, name: string, bytes: Uint8Array | string): void {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/** An OCI image layout with one manifest (tagged) whose layers are the given blobs. */
export function ociLayout(dir: string, tag: string, layers: Array<{ mediaType: string; bytes: Uint8Array; title: string }>, annotations: Record<string, string>): void {
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
  write(dir, 'index.json', JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
}

