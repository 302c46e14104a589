// "Reference -> local content" (core/oci/access.ts, `localContent`): the one step deploy and inspect/check
// take to bring a reference into the content store before reading it. Real OCI layouts, real store.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { createRegistryAccess, isContentReference } from '../../../../core/oci/access.js';
import type { FlightDeckError } from '../../../../core/errors.js';
import { inspectTarget } from '../../../../core/wasm/target.js';
import { ociLayout } from '../../../support/oci-layout.js';
import { fixtureBytes } from '../../../support/wasm.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-access-'));
const WASM = 'application/vnd.wasm.content.layer.v1+wasm';

function access() {
  const paths = resolvePaths({ FLIGHTDECK_HOME: tmp() });
  // An oci: layout never asks for registry credentials.
  return createRegistryAccess(paths, () => () => Promise.reject(new Error('no credentials are asked for a layout')));
}

describe('localContent', () => {
  it('brings an oci: layout into the content store and names it as an oci: target that inspect reads', async () => {
    const src = tmp();
    ociLayout(src, 'v1', [{ mediaType: WASM, bytes: fixtureBytes('simd'), title: 'simd.wasm' }], { 'flight.target-platform': 'vita' });
    const local = await access().localContent(`oci:${src}:v1`, {});
    expect(local.target).toBe(`oci:${local.store.root}@${local.digest}`);
    expect(local.store.root).not.toBe(src);
    expect(local.layers.map((l) => l.mediaType)).toEqual([WASM]);
    const layer = local.layers[0]!;
    expect(Buffer.from(await local.store.readBlobVerified(layer, 1 << 20))).toEqual(Buffer.from(fixtureBytes('simd')));
    const inspected = await inspectTarget(local.target);
    expect(inspected).toMatchObject({ inputKind: 'oci-layout', annotations: { 'flight.target-platform': 'vita' } });
    expect(inspected.modules.map((m) => m.report.features)).toEqual([['simd']]);
  });

  it('does not hash blobs already stored (the caller reads them verified): a damaged stored blob is BLOB_CORRUPT on read', async () => {
    const src = tmp();
    ociLayout(src, 'v1', [{ mediaType: WASM, bytes: fixtureBytes('simd'), title: 'simd.wasm' }], {});
    const a = access();
    const first = await a.localContent(`oci:${src}:v1`, {});
    const layer = first.layers[0]!;
    const file = first.store.blobPath(layer.digest);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x40;
    writeFileSync(file, bytes);
    // The pull skips the stored blob without reading it...
    const again = await a.localContent(`oci:${src}:v1`, {});
    expect(again.digest).toBe(first.digest);
    expect(readFileSync(file)).toEqual(bytes);
    // ...and the read that follows catches the damage.
    const err = (await again.store.readBlobVerified(layer, 1 << 20).then(
      () => undefined,
      (e: unknown) => e,
    )) as FlightDeckError | undefined;
    expect(err?.code).toBe('BLOB_CORRUPT');
  });
});

describe('isContentReference', () => {
  it('an oci: layout and a registry reference naming no file are content; a path is a file', () => {
    const dir = tmp();
    expect(isContentReference(`oci:${dir}:v1`)).toBe(true);
    expect(isContentReference('localhost:5000/flight/wasm/complete:v1')).toBe(true);
    expect(isContentReference('registry.example.com/flight/bundles/vita@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(isContentReference(path.join(dir, 'game.wasm'))).toBe(false);
    expect(isContentReference('game.wasm')).toBe(false);
  });

  it('an existing path that looks like a registry reference is a file', () => {
    const dir = tmp();
    const prev = process.cwd();
    try {
      process.chdir(dir);
      expect(isContentReference('localhost:5000/flight/x:v1')).toBe(true);
      const rel = 'registry.local/flight';
      mkdirSync(rel, { recursive: true });
      writeFileSync(`${rel}/x.wasm`, fixtureBytes('simd'));
      expect(isContentReference(`${rel}/x.wasm`)).toBe(false);
    } finally {
      process.chdir(prev);
    }
  });
});
