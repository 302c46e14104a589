import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';
import { readLayout } from '../../support/oci-layout.js';

const KIT = path.join(ROOT, 'assets', 'demo-kit');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-demo-kit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('scripts/build-demo-kit.mjs', () => {
  it('rebuilds the checked-in kit byte for byte from the .wat sources (deterministic, up to date)', () => {
    const master = readLayout(KIT).manifest('flight/shared-types/manifest:latest');
    const generator = JSON.parse(readLayout(KIT).blob(master.layers[0]!.digest).toString()) as { generator: { wabt: string } };
    const wabt = execFileSync('wat2wasm', ['--version'], { encoding: 'utf8' }).trim();
    // Different wabt releases may encode the same .wat differently; the kit records the one it used.
    expect(wabt, 'rebuild with the wabt release recorded in the kit, or rebuild the kit (npm run demo-kit)').toBe(generator.generator.wabt);
    const out = path.join(tmp, 'kit');
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-demo-kit.mjs'), '--out', out], { stdio: 'pipe' });
    const want = tree(KIT);
    const got = tree(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, bytes] of want) expect(got.get(name)?.equals(bytes), name).toBe(true);
  });

  it('is readable by skopeo (interop with the OCI image layout spec as another tool implements it)', () => {
    const dest = path.join(tmp, 'skopeo');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${KIT}:flight/shared-types/bundles/dreamcast:latest`, `oci:${dest}:dreamcast`], { stdio: 'pipe' });
    const copy = readLayout(dest);
    const original = readLayout(KIT);
    expect(copy.refs.find((r) => r.name === 'dreamcast')?.digest).toBe(
      original.refs.find((r) => r.name === 'flight/shared-types/bundles/dreamcast:latest')?.digest,
    );
  });
});
