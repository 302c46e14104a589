import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InPlaceTar, writeTar } from '../../../../core/kits/tar.js';
import { FlightDeckError } from '../../../../core/errors.js';

// kit build writes its tar in place (blobs at precomputed offsets, in any order, some straight from the
// download stream): the bytes must be exactly what the streaming writer writes for the same entries, or
// kit digests would change between builds that took different paths.
const sizes = [0, 1, 511, 512, 513, 4096, 70_001];
const blobs = sizes.map((n, i) => ({ name: `blobs/sha256/${String(i).padStart(64, 'a')}`, bytes: randomBytes(n) }));
const meta = [
  { name: 'oci-layout', bytes: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
  { name: 'index.json', bytes: Buffer.from('{"manifests":[]}\n') },
  { name: 'kit-lock.json', bytes: randomBytes(777) },
];
const dirs = [
  { name: 'blobs/', size: 0 },
  { name: 'blobs/sha256/', size: 0 },
];
const chunksOf = async function* (b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 1000) yield b.subarray(i, i + 1000);
};

describe('InPlaceTar', () => {
  it('writes the same bytes as writeTar, blobs filled in any order by copies and verified reads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-tar-'));
    const a = path.join(dir, 'stream.tar');
    const digestA = await writeTar(
      a,
      [...dirs, ...blobs.map((b) => ({ ...b, size: b.bytes.length })), ...meta.map((m) => ({ ...m, size: m.bytes.length }))],
      1_700_000_000,
    );
    const b = path.join(dir, 'in-place.tar');
    const tar = await InPlaceTar.create(b, [...dirs, ...blobs.map((x) => ({ name: x.name, size: x.bytes.length }))], 1_700_000_000);
    for (const [i, blob] of [...blobs.entries()].reverse()) {
      if (i % 2) {
        // As a BlobWriter drives a copy: open, batches, a restart, commit, verified.
        const copy = tar.copyFor(blob.name);
        await copy.open();
        await copy.write([blob.bytes.subarray(0, 7)], Math.min(7, blob.bytes.length));
        await copy.open();
        await copy.write([blob.bytes.subarray(0, 300), blob.bytes.subarray(300)], blob.bytes.length);
        await copy.commit();
        copy.verified();
      } else {
        await tar.fill(blob.name, (use) => use(chunksOf(blob.bytes)));
      }
      expect(tar.has(blob.name)).toBe(true);
    }
    const digestB = await tar.finish(meta);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
    expect(digestB).toBe(digestA);
    expect(readdirSync(dir).sort()).toEqual(['in-place.tar', 'stream.tar']);
  });

  it('refuses to finish with an entry whose bytes never arrived (a dropped copy counts as missing) and leaves no file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-tar-'));
    const file = path.join(dir, 'kit.tar');
    const tar = await InPlaceTar.create(file, [...dirs, ...blobs.slice(0, 2).map((x) => ({ name: x.name, size: x.bytes.length }))], 0);
    await tar.fill(blobs[0]!.name, (use) => use(chunksOf(blobs[0]!.bytes)));
    const copy = tar.copyFor(blobs[1]!.name);
    await copy.open();
    await copy.write([blobs[1]!.bytes], blobs[1]!.bytes.length);
    await copy.drop(); // the writer's digest check failed: never verified
    const err = await tar.finish(meta).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlightDeckError);
    expect(readdirSync(dir)).toEqual([]);
  });
});
