import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listCache, pruneCache, verifyCache } from '../../../../core/oci/cache.js';
import { ANNOTATION_PULLED_AT, type OciLayout } from '../../../../core/oci/layout.js';
import { MEDIA } from '../../../../core/oci/manifest.js';
import { newStore } from '../../../support/oci.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Store an artifact with one layer of `size` bytes, tagged `name`, pulled `ageDays` ago. */
async function artifact(store: OciLayout, name: string, size: number, ageDays: number): Promise<string> {
  const layer = Buffer.alloc(size, name);
  const config = Buffer.from('{}');
  await store.putBytes(sha(layer), layer);
  await store.putBytes(sha(config), config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.empty, digest: sha(config), size: 2 }, layers: [{ mediaType: MEDIA.wasm, digest: sha(layer), size }] }),
  );
  await store.putBytes(sha(manifest), manifest);
  await store.tag({ mediaType: MEDIA.ociManifest, digest: sha(manifest), size: manifest.length }, name, {
    [ANNOTATION_PULLED_AT]: new Date(Date.now() - ageDays * 86_400_000).toISOString(),
  });
  return sha(layer);
}

describe('cache ls / verify / prune', () => {
  it('lists entries with sizes; verify reports and fixes corruption', async () => {
    const store = await newStore();
    const layer = await artifact(store, 'a', 1000, 0);
    const list = await listCache(store);
    expect(list.entries).toEqual([expect.objectContaining({ reference: 'a', size: expect.any(Number) })]);
    expect(list.entries[0]?.size).toBeGreaterThan(1002);
    expect((await verifyCache(store)).corrupt).toEqual([]);
    writeFileSync(store.blobPath(layer), 'bad');
    const v = await verifyCache(store, { fix: true });
    expect(v.corrupt).toEqual([{ digest: layer, actual: sha(Buffer.from('bad')), removed: true }]);
    expect(await store.has({ digest: layer })).toBe(false);
  });

  it('prunes by age, then by size cap (oldest first), deleting only unreachable blobs', async () => {
    const store = await newStore();
    const old = await artifact(store, 'old', 5000, 40);
    const mid = await artifact(store, 'mid', 5000, 5);
    const fresh = await artifact(store, 'new', 5000, 1);
    const byAge = await pruneCache(store, { olderThanMs: 30 * 86_400_000, graceMs: 0 });
    expect(byAge.untagged).toEqual(['old']);
    expect(await store.has({ digest: old })).toBe(false);
    expect(await store.has({ digest: mid })).toBe(true);
    const bySize = await pruneCache(store, { maxBytes: 6000, graceMs: 0 });
    expect(bySize.untagged).toEqual(['mid']);
    expect(await store.has({ digest: mid })).toBe(false);
    expect(await store.has({ digest: fresh })).toBe(true);
    expect(bySize.remainingBytes).toBeLessThanOrEqual(6000);
    expect((await listCache(store)).entries.map((e) => e.reference)).toEqual(['new']);
  });
});
