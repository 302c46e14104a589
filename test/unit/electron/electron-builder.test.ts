import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ROOT } from '../../support/cli.js';

// Packaging downloads Electron and tools, which this machine cannot do; the config is instead checked
// against the schema electron-builder itself validates with (app-builder-lib/scheme.json).
const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const config = parse(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;

describe('electron-builder.yml', () => {
  it('is valid against electron-builder’s schema', () => {
    const ok = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is not vacuous: an unknown key and a wrong type are rejected', () => {
    expect(validate({ ...config, notAnOption: true })).toBe(false);
    expect(validate({ ...config, asar: 'yes please' })).toBe(false);
  });

  it('packages the built app and points at the built main process', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
    expect((config.extraMetadata as { main: string }).main).toBe(pkg.main);
    expect(config.files).toContain('dist/**/*');
    for (const platform of ['linux', 'mac', 'win'] as const) {
      const icon = (config[platform] as { icon: string }).icon;
      expect(readFileSync(path.join(ROOT, icon)).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('names files that exist: resources, icons, packaged globs, the sources of main, preload and the api worker', () => {
    const dirs = config.directories as { buildResources: string };
    expect(existsSync(path.join(ROOT, dirs.buildResources)), dirs.buildResources).toBe(true);
    for (const pattern of (config.files as string[]).filter((f) => !f.startsWith('!') && !f.startsWith('dist/'))) {
      // Patterns here are a file or `folder/**/*` (Node 20 has no fs.globSync).
      const folder = pattern.endsWith('/**/*') ? pattern.slice(0, -'/**/*'.length) : undefined;
      if (folder) expect(readdirSync(path.join(ROOT, folder)).length, pattern).toBeGreaterThan(0);
      else expect(existsSync(path.join(ROOT, pattern)), pattern).toBe(true);
    }
    // dist/ is built from these (tsc for main and the worker, Vite for the preload).
    const main = (config.extraMetadata as { main: string }).main;
    expect(main).toMatch(/^dist\/electron\/main\/main\.js$/);
    for (const src of ['electron/main/main.ts', 'electron/main/api-worker.ts', 'electron/preload/preload.ts']) {
      expect(existsSync(path.join(ROOT, src)), src).toBe(true);
    }
    expect(readFileSync(path.join(ROOT, 'electron/main/main.ts'), 'utf8')).toContain("'api-worker.js'");
    // Native modules kept outside the asar are ones the app depends on.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    for (const unpack of (config.asarUnpack as string[]).filter((u) => u.includes('node_modules'))) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/*]+)/.exec(unpack)?.[1];
      expect(name, unpack).toBeDefined();
      const deps = Object.keys(pkg.optionalDependencies);
      expect(
        deps.some((d) => d === name || d.startsWith(name!.replace(/\*$/, '')) || (name === '@serialport' && d === 'serialport')),
        unpack,
      ).toBe(true);
    }
  });
});
