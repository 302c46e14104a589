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
    JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': payloadDigest }, type: 'cosign container image signature' }, optional: null }),
  );
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  const config = Buffer.from(
    JSON.stringify({ architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: [sha(payload)] }, config: {} }),
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
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`manifest push ${res.status}: ${await res.text()}`);
}

/** Sign `repo@digest` in a registry with `key`, as `cosign sign --key` would. */
export async function cosignSign(host: string, repo: string, digest: string, key: TestKey, payloadDigest = digest): Promise<void> {
  const s = cosignSignature(key, `${host}/${repo}`, digest, payloadDigest);
  await pushRaw(host, repo, s.tag, s.manifest, s.blobs);
}
