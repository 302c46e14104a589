/**
 * Cosign signatures made the way `cosign sign --key` makes them, with node:crypto only: an ECDSA P-256
 * key, the simple-signing JSON payload naming the signed manifest digest, a DER signature (base64) in the
 * layer annotation `dev.cosignproject.cosign/signature`, and an image manifest pushed under the tag
 * `sha256-<hex>.sig` of the signed repository. Pushed with plain fetch (independent of core/oci).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestKey {
  privateKey: KeyObject;
  /** PEM (SPKI), as `cosign generate-key-pair` writes cosign.pub. */
  publicPem: string;
}

export function cosignKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * The signature manifest and its blobs for `digest` (stored under its `.sig` tag); the payload names
 * `payloadDigest` (default `digest`: a different one makes a signature over another manifest).
 */
export function cosignSignature(key: TestKey, dockerReference: string, digest: string, payloadDigest = digest) {
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': payloadDigest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [sha(payload)] },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha(config) },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          size: payload.length,
          digest: sha(payload),
          annotations: { 'dev.cosignproject.cosign/signature': signature },
        },
      ],
    }),
  );
  return { tag: `sha256-${digest.slice(7)}.sig`, manifest, blobs: [config, payload] };
}

/** Push blobs (POST then PUT) and a manifest with fetch. */
export async function pushRaw(host: string, repo: string, tag: string, manifest: Buffer, blobs: Buffer[]): Promise<void> {
  for (const b of blobs) {
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, `http://${host}`);
    loc.searchParams.set('digest', sha(b));
    const put = await fetch(loc, { method: 'PUT', body: new Uint8Array(b), headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`blob push ${put.status}`);
  }
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: new Uint8Array(manifest),
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status !== 201) throw new Error(`manifest push ${res.status}: ${await res.text()}`);
}

/** Sign `repo@digest` in a registry with `key`, as `cosign sign --key` would. */
export async function cosignSign(host: string, repo: string, digest: string, key: TestKey, payloadDigest = digest): Promise<void> {
  const s = cosignSignature(key, `${host}/${repo}`, digest, payloadDigest);
  await pushRaw(host, repo, s.tag, s.manifest, s.blobs);
}

/**
 * A cosign signature attached as an OCI 1.1 referrer (what `cosign sign --registry-referrers-mode=oci-1-1`
 * writes): artifactType `application/vnd.dev.cosign.artifact.sig.v1+json`, the empty config, the
 * simple-signing layer, and `subject` naming the signed manifest; pushed by digest. With `tagSchema`, the
 * referrers index is also pushed under the tag `sha256-<hex>` (how clients attach referrers on a registry
 * without the referrers API). Returns the referrers index a registry with the API would serve.
 */
export async function cosignReferrer(
  host: string,
  repo: string,
  subject: { digest: string; size: number; mediaType: string },
  key: TestKey,
  opts: { tagSchema: boolean },
): Promise<Buffer> {
  const s = cosignSignature(key, `${host}/${repo}`, subject.digest);
  const layer = (JSON.parse(s.manifest.toString('utf8')) as { layers: unknown[] }).layers[0];
  const empty = Buffer.from('{}');
  const artifactType = 'application/vnd.dev.cosign.artifact.sig.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha(empty) },
      layers: [layer],
      subject,
    }),
  );
  await pushRaw(host, repo, sha(manifest), manifest, [empty, s.blobs[1]!]);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, artifactType }],
    }),
  );
  if (opts.tagSchema) {
    const res = await fetch(`http://${host}/v2/${repo}/manifests/sha256-${subject.digest.slice(7)}`, {
      method: 'PUT',
      body: new Uint8Array(index),
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    });
    if (res.status !== 201) throw new Error(`referrers index push ${res.status}: ${await res.text()}`);
  }
  return index;
}
