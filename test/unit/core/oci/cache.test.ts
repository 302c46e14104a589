import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCache, pruneCache, verifyCache } from '../../../../core/oci/cache.js';
import { ANNOTATION_PULLED_AT, type OciLayout } from '../../../../core/oci/layout.js';
import { MEDIA } from '../../../../core/oci/manifest.js';
import { tryLock } from '../../../../core/oci/lock.js';
import { newStore } from '../../../support/oci.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Store an artifact with one layer of `size` bytes, tagged `name`, pulled `ageDays` ago. */
async function artifact(store: OciLayout, name: string, size: number, ageDays: number): Promise<string> {
  const layer = Buffer.alloc(size, name);
  const config = Buffer.from('{}');
  await store.putBytes(sha(layer), layer);
  await store.putBytes(sha(config), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.empty, digest: sha(config), size: 2 },
      layers: [{ mediaType: MEDIA.wasm, digest: sha(layer), size }],
    }),
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

  it('prune keeps young blobs and partials (a pull in progress) and partials whose lock a live process holds', async () => {
    const store = await newStore();
    const now = Date.now();
    const old = new Date(now - 2 * 3600_000);
    // An orphan blob stored a moment ago (a pull that has not tagged its manifest yet) and an old one.
    const young = Buffer.from('young orphan');
    const aged = Buffer.from('aged orphan');
    await store.putBytes(sha(young), young);
    await store.putBytes(sha(aged), aged);
    utimesSync(store.blobPath(sha(aged)), old, old);
    mkdirSync(store.ingestDir(), { recursive: true });
    const partial = (name: string, age?: Date) => {
      const file = path.join(store.ingestDir(), name);
      writeFileSync(file, 'bytes');
      if (age) utimesSync(file, age, age);
      return file;
    };
    const fresh = partial(`${'a'.repeat(64)}.partial`);
    const abandoned = partial(`${'b'.repeat(64)}.partial`, old);
    const held = partial(`${'c'.repeat(64)}.partial`, old);
    const tmp = partial(`${'d'.repeat(64)}.1234-abcdef.tmp`, old);
    const lock = await tryLock(held, path.join(store.ingestDir(), `${'c'.repeat(64)}.lock`));
    try {
      const r = await pruneCache(store, { graceMs: 3600_000, now });
      expect(r.removedBlobs).toBe(1);
      expect(await store.has({ digest: sha(young) })).toBe(true);
      expect(await store.has({ digest: sha(aged) })).toBe(false);
      expect([fresh, abandoned, held, tmp].map((f) => existsSync(f))).toEqual([true, false, true, false]);
      expect((await verifyCache(store)).partials).toBe(2);
    } finally {
      await lock?.release();
    }
    expect(lock).toBeDefined();
  });
});
