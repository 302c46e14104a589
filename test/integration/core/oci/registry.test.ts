import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../../core/oci/client.js';
import { OciLayout } from '../../../../core/oci/layout.js';
import { MEDIA, digestOf } from '../../../../core/oci/manifest.js';
import { layoutSource, pull, registrySource } from '../../../../core/oci/pull.js';
import { pushFiles } from '../../../../core/oci/push.js';
import { parseReference } from '../../../../core/oci/reference.js';
import { writeOutputs } from '../../../../core/oci/extract.js';
import { startRegistry, type TestRegistry } from '../../../support/registry.js';
import { startFaultProxy, type FaultProxy } from '../../../support/fault-proxy.js';
import { newStore, randomFile, storeFiles, tempDir } from '../../../support/oci.js';

let registry: TestRegistry;
let proxy: FaultProxy;
const dir = tempDir();
const wasm = randomFile(dir, 'complete.wasm', 700 * 1024);
const json = randomFile(dir, 'platform.json', 3000);
const big = randomFile(dir, 'bundle.tar.gz', 300 * 1024);

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

const client = (host = proxy.host) => new RegistryClient(host, { retryBaseMs: 10 });

describe('registry client against docker-registry', () => {
  it('answers the API version check', async () => {
    const c = client(registry.host);
    expect(await c.ping()).toMatchObject({ status: 200, apiVersion: 'registry/2.0' });
    c.close();
  });

  it('pushes an artifact with annotations and artifactType, and reads it back with the same digest', async () => {
    const c = client(registry.host);
    const pushed = await pushFiles(
      c,
      'flight/shared-types/wasm/complete',
      '2025.06.06',
      [{ path: wasm.path }, { path: json.path, mediaType: 'application/json' }],
      {
        artifactType: 'application/vnd.flight.component.v1',
        annotations: { 'flight.component': 'complete', 'flight.version': '2025.06.06' },
      },
    );
    expect(pushed.uploaded).toBe(3);
    const got = await c.getManifest('flight/shared-types/wasm/complete', '2025.06.06');
    expect(got.descriptor.digest).toBe(pushed.digest);
    expect(got.manifest).toMatchObject({
      kind: 'manifest',
      artifactType: 'application/vnd.flight.component.v1',
      annotations: { 'flight.component': 'complete', 'flight.version': '2025.06.06' },
    });
    if (got.manifest.kind !== 'manifest') throw new Error('kind');
    expect(got.manifest.layers.map((l) => [l.mediaType, l.digest, l.annotations?.['org.opencontainers.image.title']])).toEqual([
      [MEDIA.wasmLayer, wasm.digest, 'complete.wasm'],
      ['application/json', json.digest, 'platform.json'],
    ]);
    // Pushing the same content again uploads nothing (HEAD finds every blob).
    const again = await pushFiles(c, 'flight/shared-types/wasm/complete', 'latest', [{ path: wasm.path }, { path: json.path, mediaType: 'application/json' }]);
    expect(again).toMatchObject({ uploaded: 0, skipped: 3 });
    c.close();
  });

  it('pulls into the store verified, writes titled files, and a second pull moves no blob bytes', async () => {
    const store = await newStore();
    const ref = parseReference(`${proxy.host}/flight/shared-types/wasm/complete:2025.06.06`);
    const c = client();
    const before = proxy.log.length;
    const first = await pull(registrySource(c, 'flight/shared-types/wasm/complete', '2025.06.06'), store, ref, { concurrency: 2 });
    expect(first.blobsDownloaded).toBe(3);
    expect(first.bytesDownloaded).toBe(wasm.bytes.length + json.bytes.length + 2);
    expect(readFileSync(store.blobPath(wasm.digest)).equals(wasm.bytes)).toBe(true);
    const out = path.join(tempDir(), 'out');
    const files = await writeOutputs(store, first.layers, out, { unpack: false });
    expect(files.map((f) => path.basename(f.path)).sort()).toEqual(['complete.wasm', 'platform.json']);
    expect(readFileSync(path.join(out, 'complete.wasm')).equals(wasm.bytes)).toBe(true);
    const blobGets = () => proxy.log.slice(before).filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).length;
    expect(blobGets()).toBe(3);
    const second = await pull(registrySource(c, 'flight/shared-types/wasm/complete', '2025.06.06'), store, ref);
    expect(second).toMatchObject({ blobsDownloaded: 0, blobsSkipped: 3, bytesDownloaded: 0, digest: first.digest });
    expect(blobGets()).toBe(3);
    expect(storeFiles(store).ingest).toEqual([]);
    const { manifests } = await store.readIndex();
    expect(manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual([`${proxy.host}/flight/shared-types/wasm/complete:2025.06.06`]);
    c.close();
  });

  it('uploads in PATCH chunks and mounts across repositories', async () => {
    const c = client(registry.host);
    const chunked = await pushFiles(c, 'flight/shared-types/bundles/dreamcast', '2025.06.06', [{ path: big.path }], { chunkSize: 64 * 1024 });
    expect(chunked.uploaded).toBe(2);
    const store = await newStore();
    const r = await pull(
      registrySource(c, 'flight/shared-types/bundles/dreamcast', '2025.06.06'),
      store,
      parseReference(`${registry.host}/flight/shared-types/bundles/dreamcast:2025.06.06`),
    );
    expect(readFileSync(store.blobPath(big.digest)).equals(big.bytes)).toBe(true);
    expect(r.layers[0]?.mediaType).toBe(MEDIA.tarGzip);
    const mounted = await pushFiles(c, 'flight/shared-types/bundles/vita', '2025.06.06', [{ path: big.path }], {
      mountFrom: ['flight/shared-types/bundles/dreamcast'],
    });
    // The layer and the empty config are both mounted (neither was in the new repository yet).
    expect(mounted).toMatchObject({ mounted: 2, uploaded: 0, skipped: 0 });
    expect(await c.hasBlob('flight/shared-types/bundles/vita', big.digest)).toBe(true);
    c.close();
  });

  it('lists tags and the catalog across Link pages', async () => {
    const c = client(registry.host);
    for (const tag of ['2025.06.01', '2025.06.02']) await pushFiles(c, 'flight/shared-types/bindings/typescript', tag, [{ path: json.path }]);
    expect((await c.listTags('flight/shared-types/bindings/typescript')).sort()).toEqual(['2025.06.01', '2025.06.02']);
    const viaProxy = client();
    const before = proxy.log.length;
    const repos = await viaProxy.catalog(undefined, 1);
    viaProxy.close();
    // One repository per page: the client followed every Link header.
    expect(proxy.log.slice(before).filter((r) => r.path.startsWith('/v2/_catalog')).length).toBeGreaterThanOrEqual(repos.length);
    expect(repos).toEqual(
      expect.arrayContaining(['flight/shared-types/wasm/complete', 'flight/shared-types/bundles/vita', 'flight/shared-types/bindings/typescript']),
    );
    c.close();
  });

  it('pulls one platform from an index by its flight.target-platform annotation', async () => {
    const c = client(registry.host);
    const dc = await pushFiles(c, 'flight/shared-types/bundles/multi', 'dreamcast', [{ path: wasm.path }]);
    const vita = await pushFiles(c, 'flight/shared-types/bundles/multi', 'vita', [{ path: json.path }]);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [
          { mediaType: MEDIA.ociManifest, digest: dc.digest, size: dc.size, annotations: { 'flight.target-platform': 'dreamcast' } },
          { mediaType: MEDIA.ociManifest, digest: vita.digest, size: vita.size, annotations: { 'flight.target-platform': 'vita' } },
        ],
      }),
    );
    await c.putManifest('flight/shared-types/bundles/multi', 'latest', index, MEDIA.ociIndex);
    const store = await newStore();
    const r = await pull(
      registrySource(c, 'flight/shared-types/bundles/multi', 'latest'),
      store,
      parseReference(`${registry.host}/flight/shared-types/bundles/multi:latest`),
      { platform: 'vita' },
    );
    expect(r.digest).toBe(digestOf(index));
    expect(r.layers.map((l) => l.digest)).toEqual([json.digest]);
    expect(await store.has({ digest: wasm.digest })).toBe(false);
    c.close();
  });

  it('pulls a Docker v2 schema 2 manifest and a Docker manifest list', async () => {
    const c = client(registry.host);
    const repo = 'flight/shared-types/docker/legacy';
    const config = Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasip1', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = Buffer.from(big.bytes);
    for (const [bytes, mediaType] of [
      [config, 'application/vnd.docker.container.image.v1+json'],
      [layer, 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
    ] as const) {
      await c.pushBlob(repo, { mediaType, digest: digestOf(bytes), size: bytes.length }, (start, end) => Readable.from([bytes.subarray(start, end)]));
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.dockerManifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digestOf(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digestOf(layer), size: layer.length }],
      }),
    );
    await c.putManifest(repo, 'v2', manifest, MEDIA.dockerManifest);
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.dockerList,
        manifests: [{ mediaType: MEDIA.dockerManifest, digest: digestOf(manifest), size: manifest.length, platform: { os: 'wasip1', architecture: 'wasm' } }],
      }),
    );
    await c.putManifest(repo, 'list', list, MEDIA.dockerList);
    const store = await newStore();
    const r = await pull(registrySource(c, repo, 'list'), store, parseReference(`${registry.host}/${repo}:list`), { platform: 'wasip1' });
    expect(r.mediaType).toBe(MEDIA.dockerList);
    expect(r.layers.map((l) => l.digest)).toEqual([digestOf(layer)]);
    expect(await store.has({ digest: digestOf(manifest) })).toBe(true);
    expect(await store.has({ digest: digestOf(config) })).toBe(true);
    c.close();
  });

  it('interoperates with skopeo both ways (docker:// → oci: layout → Flight Deck, and back)', async () => {
    const layoutDir = path.join(tempDir(), 'skopeo-layout');
    execFileSync(
      'skopeo',
      ['copy', '--src-tls-verify=false', `docker://${registry.host}/flight/shared-types/wasm/complete:2025.06.06`, `oci:${layoutDir}:2025.06.06`],
      { stdio: 'pipe' },
    );
    const c = client(registry.host);
    const original = await c.getManifest('flight/shared-types/wasm/complete', '2025.06.06');
    const store = await newStore();
    const fromLayout = await pull(
      layoutSource(await OciLayout.open(layoutDir, { create: false }), { tag: '2025.06.06' }),
      store,
      parseReference(`oci:${layoutDir}:2025.06.06`),
    );
    expect(fromLayout.digest).toBe(original.descriptor.digest);
    expect(readFileSync(store.blobPath(wasm.digest)).equals(wasm.bytes)).toBe(true);
    // And skopeo pushes what Flight Deck stored (the store is an OCI layout) back to another repository.
    const pulled = await pull(
      registrySource(c, 'flight/shared-types/wasm/complete', '2025.06.06'),
      store,
      parseReference(`${registry.host}/flight/shared-types/wasm/complete:2025.06.06`),
    );
    expect(pulled.blobsDownloaded).toBe(0);
    execFileSync(
      'skopeo',
      ['copy', '--dest-tls-verify=false', `oci:${store.root}:${pulled.reference}`, `docker://${registry.host}/flight/shared-types/wasm/copy:1`],
      { stdio: 'pipe' },
    );
    const copied = await c.getManifest('flight/shared-types/wasm/copy', '1');
    expect(copied.descriptor.digest).toBe(original.descriptor.digest);
    c.close();
  });
});
