import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../../support/cli.js';
import { tempDir } from '../../support/oci.js';
import { diamondKit } from '../../support/kit-graph.js';

// Runs the built CLI (dist/): `npm run build` first.
/** A kit tar made by GNU tar from a diamond layout. */
function diamondTar(levels: number, fanout: number): string {
  const dir = tempDir();
  const layout = path.join(dir, 'layout');
  diamondKit(layout, levels, fanout);
  const file = path.join(dir, 'diamond.tar');
  execFileSync('tar', ['-cf', file, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
  return file;
}

describe('kit verify / import on a small kit with a huge number of paths', () => {
  it('verifies a 30^6-path diamond (about 40 KB, 9 blobs): each manifest read once, exit 0', async () => {
    // Without memoization this walk reads the innermost manifest 729,000,000 times (years): the test
    // timeout is the failure mode, not a time bound on the fixed code.
    const r = await runCli(['--json', 'kit', 'verify', diamondTar(6, 30)], { env: { FLIGHTDECK_HOME: tempHome() } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, blobs: { checked: 9 }, refs: 1 });
  });

  it('refuses to import a diamond nested deeper than the cap: KIT_INVALID, exit 6, the store untouched', async () => {
    const home = tempHome();
    const r = await runCli(['--json', 'kit', 'import', diamondTar(9, 30)], { env: { FLIGHTDECK_HOME: home } });
    expect(r.code, r.stdout + r.stderr).toBe(6);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe('KIT_INVALID');
    expect(doc.error.message).toMatch(/more than 8 levels deep/);
    const store = path.join(home, 'data', 'store');
    expect(existsSync(path.join(store, 'blobs', 'sha256')) ? readdirSync(path.join(store, 'blobs', 'sha256')) : []).toEqual([]);
    expect(existsSync(path.join(store, 'ingest')) ? readdirSync(path.join(store, 'ingest')) : []).toEqual([]);
  });
});
