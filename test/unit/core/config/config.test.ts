import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFile, loadConfig } from '../../../../core/config/config.js';
import { resolvePaths } from '../../../../core/config/paths.js';

function home(content?: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-cfg-'));
  const paths = resolvePaths({ FLIGHTDECK_HOME: dir });
  if (content !== undefined) {
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(configFile(paths), content);
  }
  return paths;
}

describe('loadConfig', () => {
  it('uses defaults when there is no file', async () => {
    expect(await loadConfig(home())).toEqual({ registries: [], plainHttp: [] });
  });

  it('reads registries', async () => {
    expect(await loadConfig(home('{"registries":["reg.example:5000"]}'))).toEqual({ registries: ['reg.example:5000'], plainHttp: [] });
  });

  it('names the file on broken JSON', async () => {
    const paths = home('{ nope');
    await expect(loadConfig(paths)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(configFile(paths)) });
  });

  it('names the field on a schema violation and rejects unknown keys', async () => {
    await expect(loadConfig(home('{"registries":"x"}'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('registries') });
    await expect(loadConfig(home('{"registry":[]}'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
