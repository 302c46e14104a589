import { describe, expect, it } from 'vitest';
import { MEDIA, MANIFEST_MAX_BYTES, parseManifest } from '../../../../core/oci/manifest.js';

const d = (c: string, extra: object = {}) => ({ mediaType: MEDIA.wasmLayer, digest: `sha256:${c.repeat(64)}`, size: 10, ...extra });
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseManifest', () => {
  it('reads an OCI artifact manifest with artifactType and annotations', () => {
    const m = parseManifest(
      bytes({
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        artifactType: 'application/vnd.flight.v1',
        config: d('a'),
        layers: [d('b', { annotations: { 'org.opencontainers.image.title': 'x.wasm' } })],
        annotations: { 'flight.version': '2025.06.06' },
      }),
      MEDIA.ociManifest,
      'test',
    );
    expect(m).toMatchObject({ kind: 'manifest', artifactType: 'application/vnd.flight.v1', annotations: { 'flight.version': '2025.06.06' } });
    if (m.kind === 'manifest') expect(m.layers[0]?.annotations).toEqual({ 'org.opencontainers.image.title': 'x.wasm' });
  });
  it('reads OCI indexes, Docker v2 manifests and lists, using the body mediaType behind a generic Content-Type', () => {
    expect(parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [d('c')] }), 'application/json', 't').kind).toBe('index');
    expect(parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: d('a'), layers: [] }), MEDIA.dockerManifest, 't').kind).toBe(
      'manifest',
    );
    expect(parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA.dockerList, manifests: [] }), `${MEDIA.dockerList}; charset=utf-8`, 't').kind).toBe(
      'index',
    );
  });
  it.each([
    ['not JSON', Buffer.from('{'), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    ['an array', bytes([]), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    ['schemaVersion 1', bytes({ schemaVersion: 1, layers: [], config: d('a') }), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    [
      'a digest with path characters',
      bytes({ schemaVersion: 2, config: d('a'), layers: [{ ...d('b'), digest: 'sha256:../../etc' }] }),
      MEDIA.ociManifest,
      'MANIFEST_INVALID',
    ],
    ['a negative size', bytes({ schemaVersion: 2, config: d('a'), layers: [{ ...d('b'), size: -1 }] }), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    ['a non-string annotation', bytes({ schemaVersion: 2, config: d('a'), layers: [], annotations: { a: 1 } }), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    ['mismatched mediaType', bytes({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }), MEDIA.ociManifest, 'MANIFEST_INVALID'],
    ['an unknown media type', bytes({ schemaVersion: 2, layers: [] }), 'application/vnd.example+json', 'MEDIA_TYPE_UNSUPPORTED'],
    ['a body over 4 MiB', Buffer.alloc(MANIFEST_MAX_BYTES + 1, 0x20), MEDIA.ociManifest, 'MANIFEST_TOO_LARGE'],
  ])('rejects %s', (_what, body, type, code) => {
    expect(() => parseManifest(body, type, 'reg/repo:tag')).toThrowError(expect.objectContaining({ code }));
  });
});
