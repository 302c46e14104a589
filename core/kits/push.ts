/**
 * `kit push`: mirror a verified kit into a registry. Every ref of the kit's index.json (`<repo>:<tag>`,
 * signatures under `<repo>:sha256-<hex>.sig` included) is pushed to the same repository and tag: blobs the
 * registry already has are skipped (HEAD), child manifests go before the manifests that name them.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import type { KitPush } from './schema.js';
import type { RegistryClient } from '../oci/client.js';
import { OciLayout } from '../oci/layout.js';
import { ANNOTATION_REF_NAME, MANIFEST_MAX_BYTES, parseManifest, type Descriptor } from '../oci/manifest.js';
import { isRepository, isTag } from '../oci/reference.js';

/**
 * Where the kit goes: the registry named, and for each repository the client and repository it is
 * written to (the registry itself, or its registries.conf `location`; never a mirror).
 */
export interface KitPushTarget {
  registry: string;
  open(repository: string): Promise<{ client: RegistryClient; repository: string }>;
}

export async function pushKitDir(dir: string, target: KitPushTarget, signal?: AbortSignal): Promise<KitPush> {
  const layout = await OciLayout.open(dir, { create: false });
  const { manifests } = await layout.readIndex();
  let uploaded = 0;
  let skipped = 0;
  const done = new Set<string>();
  const pushBlob = async (client: RegistryClient, repo: string, d: Descriptor) => {
    const key = `${client.registry}/${repo}@${d.digest}`;
    if (done.has(key)) return;
    done.add(key);
    if (await client.hasBlob(repo, d.digest, signal)) {
      skipped++;
      return;
    }
    const file = layout.blobPath(d.digest);
    // A whole-blob upload streams through the layout's verified read: the last bytes leave only once the
    // digest is confirmed, so a blob changed after `kit verify` is BLOB_CORRUPT and never completes an upload.
    const read = (start: number, end: number): Readable => {
      if (start !== 0 || end !== d.size) return createReadStream(file, { start, end: end - 1, highWaterMark: 1024 * 1024 });
      return Readable.from(layout.blobStream(d), { objectMode: false });
    };
    await client.pushBlob(repo, d, read, { signal });
    uploaded++;
  };
  const pushManifest = async (client: RegistryClient, repo: string, d: Descriptor, reference: string): Promise<void> => {
    throwIfAborted(signal);
    const bytes = await layout.readBlobVerified(d, MANIFEST_MAX_BYTES);
    const m = parseManifest(bytes, d.mediaType, `${dir}@${d.digest}`);
    if (m.kind === 'index') for (const c of m.manifests) await pushManifest(client, repo, c, c.digest);
    else for (const b of [m.config, ...m.layers]) await pushBlob(client, repo, b);
    await client.putManifest(repo, reference, bytes, m.mediaType, signal);
  };
  const refs: string[] = [];
  for (const entry of manifests) {
    const name = entry.annotations?.[ANNOTATION_REF_NAME] ?? '';
    const colon = name.lastIndexOf(':');
    const repo = name.slice(0, colon);
    const tag = name.slice(colon + 1);
    if (colon <= 0 || !isRepository(repo) || !isTag(tag)) {
      throw new FlightDeckError('KIT_INVALID', `${dir}: index.json ref ${JSON.stringify(name)} is not <repository>:<tag>, so it has no place in a registry.`, {
        details: { kit: dir },
      });
    }
    const at = await target.open(repo);
    await pushManifest(at.client, at.repository, entry, tag);
    refs.push(`${target.registry}/${name}`);
  }
  return { registry: target.registry, refs: refs.sort(), uploaded, skipped };
}
