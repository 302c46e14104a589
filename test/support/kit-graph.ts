import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * A kit directory (OCI layout, no lock) whose one ref starts a diamond graph: `levels` nested indexes,
 * each listing the next one `fanout` times, the last listing one image manifest `fanout` times. Tiny on
 * disk (levels + 3 blobs), but fanout^levels paths from the top: a walk that does not remember visited
 * digests reads the manifest fanout^levels times. Returns the number of distinct manifests and indexes.
 */
export function diamondKit(dir: string, levels: number, fanout: number, ref = 'flight/diamond/deep:1'): { manifests: number; blobs: number } {
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(path.join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = put(Buffer.from('{}'));
  const layer = put(Buffer.from('payload'));
  let top = {
    mediaType: MANIFEST,
    ...put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST,
          config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
          layers: [{ mediaType: 'application/octet-stream', ...layer }],
        }),
      ),
    ),
  };
  for (let i = 0; i < levels; i++) {
    top = {
      mediaType: INDEX,
      ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: Array.from({ length: fanout }, () => top) }))),
    };
  }
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': ref } }] }),
  );
  return { manifests: levels + 1, blobs: levels + 3 };
}
