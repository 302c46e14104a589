import { readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';
import { readLayout, sha256 } from '../../support/oci-layout.js';
import { inspectTarget } from '../../../core/wasm/target.js';
import { findProfiles } from '../../../core/platforms/profiles.js';
import { checkTarget } from '../../../core/platforms/rules.js';
import { resolvePaths } from '../../../core/config/paths.js';

const KIT = path.join(ROOT, 'assets', 'demo-kit');
const kit = readLayout(KIT);
const PLATFORMS = ['dreamcast', 'vita', 'v6r-small', 'v6r-medium', 'v6r-large'];

/** Files of a ustar archive (regular files only). */
function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    const type = String.fromCharCode(h[156] ?? 0x30);
    if (type === '0') files.set(name, buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('assets/demo-kit (the embedded offline default)', () => {
  it('is an OCI image layout whose every blob matches its digest', () => {
    expect(kit.layout.imageLayoutVersion).toBe('1.0.0');
    const files = readdirSync(path.join(KIT, 'blobs', 'sha256'));
    expect(files.length).toBeGreaterThan(10);
    for (const hex of files) expect(sha256(kit.blob(`sha256:${hex}`))).toBe(`sha256:${hex}`);
  });

  it('every ref resolves to a manifest whose config and layers exist with the declared sizes', () => {
    for (const ref of kit.refs) {
      expect(ref.name).toMatch(/^flight\/shared-types\/[a-z0-9/-]+:(\d{4}\.\d{2}\.\d{2}|latest)$/);
      const m = kit.manifest(ref.name);
      expect(kit.blob(ref.digest).length).toBe(ref.size);
      for (const d of [m.config, ...m.layers]) expect(kit.blob(d.digest).length).toBe(d.size);
    }
  });

  it('holds a bundle for every platform whose annotations state its limits and whose modules validate', () => {
    for (const p of PLATFORMS) {
      const m = kit.manifest(`flight/shared-types/bundles/${p}:latest`);
      expect(m.annotations?.['flight.target-platform']).toBe(p);
      expect(m.annotations?.['flight.memory-limit']).toMatch(/^\d+(MB|GB)$/);
      const [layer] = m.layers;
      expect(layer?.mediaType).toBe('application/tar+gzip');
      const files = untar(gunzipSync(kit.blob(layer!.digest)));
      const wasm = [...files].filter(([n]) => n.endsWith('.wasm'));
      expect(wasm.length).toBeGreaterThanOrEqual(2);
      for (const [name, bytes] of wasm) expect(WebAssembly.validate(new Uint8Array(bytes)), name).toBe(true);
      const manifest = JSON.parse(files.get(`${p}/manifest.json`)!.toString()) as { modules: Array<{ file: string; sha256: string }> };
      for (const mod of manifest.modules) expect(`sha256:${mod.sha256}`).toBe(sha256(files.get(`${p}/${mod.file}`)!));
    }
  });

  it('keeps threads out of the single-threaded Dreamcast bundle and in the Vita one', () => {
    const names = (p: string) => {
      const layer = kit.manifest(`flight/shared-types/bundles/${p}:latest`).layers[0]!;
      return [...untar(gunzipSync(kit.blob(layer.digest))).keys()];
    };
    expect(names('dreamcast').some((n) => n.includes('session-threads'))).toBe(false);
    expect(names('vita').some((n) => n.includes('session-threads'))).toBe(true);
  });

  it('has a master manifest that lists every artifact by a digest present in the layout', () => {
    const m = kit.manifest('flight/shared-types/manifest:latest');
    const master = JSON.parse(kit.blob(m.layers[0]!.digest).toString()) as {
      platforms: Array<{ id: string }>;
      artifacts: Array<{ repository: string; tag: string; digest: string }>;
    };
    expect(master.platforms.map((p) => p.id)).toEqual(PLATFORMS);
    expect(master.artifacts.length).toBe(kit.refs.length / 2 - 1);
    for (const a of master.artifacts) {
      expect(kit.refs.find((r) => r.name === `${a.repository}:${a.tag}`)?.digest).toBe(a.digest);
    }
  });
});

describe('demo kit against the platform profiles', () => {
  it('every platform bundle fits its own platform; the Vita bundle does not fit Dreamcast', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: path.join(KIT, 'no-user-profiles') });
    for (const p of PLATFORMS) {
      const inspected = await inspectTarget(`oci:${KIT}:flight/shared-types/bundles/${p}:latest`);
      const report = checkTarget(inspected, await findProfiles(paths, [p]), 'test');
      expect(report.platforms[0]?.findings, p).toEqual([]);
      expect(report.summary.fits, p).toBe(true);
    }
    const vita = await inspectTarget(`oci:${KIT}:flight/shared-types/bundles/vita:latest`);
    expect(checkTarget(vita, await findProfiles(paths, ['dreamcast']), 'test').summary.fits).toBe(false);
  });
});
