import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { OciLayout } from '../../../../core/oci/layout.js';
import { COSIGN_SIG_ARTIFACT } from '../../../../core/kits/signatures.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { kitProblemHint, MAX_GRAPH_DEPTH, MAX_GRAPH_VISITS, verifyKitDir, type GraphStats } from '../../../../core/kits/verify.js';
import { ERROR_TABLE } from '../../../../core/errors.js';
import { diamondKit } from '../../../support/kit-graph.js';

const temp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-kit-graph-'));

async function verify(dir: string) {
  const stats: GraphStats = { manifestReads: 0, visits: 0 };
  const report = await verifyKitDir(dir, dir, { paths: resolvePaths({ FLIGHTDECK_HOME: temp() }), policy: undefined, stats });
  return { report, stats };
}

describe('kit verify: the manifest graph walk', () => {
  it('reads each manifest of a 30x30x30 diamond once and visits each edge once (27,000 paths, 93 descriptors)', async () => {
    const dir = temp();
    const { manifests } = diamondKit(dir, 3, 30);
    const { report, stats } = await verify(dir);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // 3 indexes and 1 image manifest, each parsed once; 1 top + 3 x 30 index entries + config + layer.
    expect(stats.manifestReads).toBe(manifests);
    expect(stats.visits).toBe(1 + 3 * 30 + 2);
  });

  it('grows linearly with the depth of the diamond, not exponentially', async () => {
    const counts = [];
    for (const levels of [2, 4, 6]) {
      const dir = temp();
      diamondKit(dir, levels, 30);
      counts.push((await verify(dir)).stats);
    }
    expect(counts.map((c) => c.manifestReads)).toEqual([3, 5, 7]);
    expect(counts.map((c) => c.visits)).toEqual([1 + 2 * 30 + 2, 1 + 4 * 30 + 2, 1 + 6 * 30 + 2]);
  });

  it(`refuses nesting deeper than ${MAX_GRAPH_DEPTH} levels with KIT_INVALID`, async () => {
    const dir = temp();
    diamondKit(dir, MAX_GRAPH_DEPTH + 1, 2);
    const { report, stats } = await verify(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        code: 'KIT_INVALID',
        message: expect.stringContaining(`more than ${MAX_GRAPH_DEPTH} levels deep`),
        hint: ERROR_TABLE.KIT_INVALID.hint,
      }),
    ]);
    expect(stats.manifestReads).toBe(MAX_GRAPH_DEPTH);
  });

  it(`refuses a graph that takes more than ${MAX_GRAPH_VISITS} descriptor visits (many refs sharing one wide index) with KIT_INVALID`, async () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(path.join(dir, 'blobs', 'sha256', hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    const leaves = Array.from({ length: 120 }, (_, i) => ({ mediaType: 'application/octet-stream', ...put(Buffer.from(`leaf ${i}`)) }));
    const INDEX = 'application/vnd.oci.image.index.v1+json';
    const wide = { mediaType: INDEX, ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: leaves }))) };
    const refs = Array.from({ length: 1000 }, (_, i) => ({ ...wide, annotations: { 'org.opencontainers.image.ref.name': `flight/wide/r${i}:1` } }));
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: refs }));
    const { report, stats } = await verify(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ code: 'KIT_INVALID', message: expect.stringContaining(`more than ${MAX_GRAPH_VISITS} descriptor visits`) }),
    ]);
    expect(stats.manifestReads).toBe(1);
    expect(stats.visits).toBe(MAX_GRAPH_VISITS);
  });
});

describe('kit verify: the signature walk', () => {
  it('reads index.json once and each signature manifest once, however many refs and referrer entries lead to it', async () => {
    const dir = temp();
    mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(path.join(dir, 'blobs', 'sha256', hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
    const INDEX = 'application/vnd.oci.image.index.v1+json';
    const config = { mediaType: 'application/vnd.oci.empty.v1+json', ...put(Buffer.from('{}')) };
    const artifact = { mediaType: MANIFEST, ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [] }))) };
    const sig = {
      mediaType: MANIFEST,
      ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, artifactType: COSIGN_SIG_ARTIFACT, config, layers: [] }))),
    };
    const referrers = {
      mediaType: INDEX,
      ...put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: Array.from({ length: 2000 }, () => sig) }))),
    };
    const name = (ref: string) => ({ annotations: { 'org.opencontainers.image.ref.name': ref } });
    const refs = [
      ...Array.from({ length: 300 }, (_, i) => ({ ...artifact, ...name(`flight/signed/app:v${i}`) })),
      { ...referrers, ...name(`flight/signed/app:sha256-${artifact.digest.slice(7)}`) },
    ];
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: refs }));
    const readIndex = vi.spyOn(OciLayout.prototype, 'readIndex');
    const readBlob = vi.spyOn(OciLayout.prototype, 'readBlob');
    try {
      const { report } = await verify(dir);
      expect(report.problems).toEqual([]);
      expect(report.signatures.filter((s) => s.status === 'unverified')).toHaveLength(300);
      expect(readIndex).toHaveBeenCalledTimes(1);
      // The referrers index and the one signature manifest it lists 2,000 times.
      expect(readBlob.mock.calls.map((c) => c[0]).sort()).toEqual([referrers.digest, sig.digest].sort());
    } finally {
      readIndex.mockRestore();
      readBlob.mockRestore();
    }
  });
});

describe('kit problems are full error objects', () => {
  it('each carries the hint of the error that refuses such a kit', () => {
    expect(kitProblemHint('SIGNATURE_REQUIRED')).toBe(ERROR_TABLE.SIGNATURE_REQUIRED.hint);
    expect(kitProblemHint('SIGNATURE_INVALID')).toBe(ERROR_TABLE.SIGNATURE_INVALID.hint);
    expect(kitProblemHint('BLOB_DIGEST_MISMATCH')).toBe(ERROR_TABLE.KIT_INVALID.hint);
  });
});
