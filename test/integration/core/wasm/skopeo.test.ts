/** OCI layouts written by a real peer: skopeo copies our layout to a new one; inspect reads skopeo's. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectTarget } from '../../../../core/wasm/target.js';
import { ociLayout } from '../../../support/oci-layout.js';
import { fixtureBytes } from '../../../support/wasm.js';
import { tarGz } from '../../../support/tar.js';

describe('OCI layouts written by skopeo', () => {
  it('inspects wasm and tar+gzip layers with the manifest annotations', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'fd-skopeo-'));
    const src = path.join(root, 'src');
    const dst = path.join(root, 'dst');
    ociLayout(
      src,
      'v1',
      [
        { mediaType: 'application/vnd.wasm.content.layer.v1+wasm', bytes: fixtureBytes('simd'), title: 'simd.wasm' },
        { mediaType: 'application/tar+gzip', bytes: tarGz([{ name: 'threads.wasm', body: fixtureBytes('shared-memory') }]), title: 'bundle.tar.gz' },
      ],
      { 'flight.target-platform': 'vita', 'flight.cpu-threads': '2' },
    );
    execFileSync('skopeo', ['copy', '--quiet', `oci:${src}:v1`, `oci:${dst}:2025.06.06`]);
    const r = await inspectTarget(`oci:${dst}:2025.06.06`);
    expect(r.inputKind).toBe('oci-layout');
    expect(r.annotations).toMatchObject({ 'flight.target-platform': 'vita', 'flight.cpu-threads': '2' });
    expect(r.modules.map((m) => [m.path, m.report.features])).toEqual([
      ['simd.wasm', ['simd']],
      ['bundle.tar.gz!threads.wasm', ['threads']],
    ]);
  });
});
