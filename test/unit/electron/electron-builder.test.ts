import { readFileSync } from 'node:fs';
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
});
