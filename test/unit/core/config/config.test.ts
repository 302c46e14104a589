import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { retryWindowMs } from '../../../../core/oci/client.js';
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
    expect(await loadConfig(home())).toEqual({ registries: [], plainHttp: [], retry: { attempts: 12, maxDelaySeconds: 10 }, prune: { graceSeconds: 3600 } });
  });

  it('reads registries', async () => {
    expect(await loadConfig(home('{"registries":["reg.example:5000"]}'))).toMatchObject({ registries: ['reg.example:5000'], plainHttp: [] });
  });

  it('names the file on broken JSON', async () => {
    const paths = home('{ nope');
    await expect(loadConfig(paths)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(configFile(paths)) });
  });

  it('names the field on a schema violation and rejects unknown keys', async () => {
    await expect(loadConfig(home('{"registries":"x"}'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('registries') });
    await expect(loadConfig(home('{"registry":[]}'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('reads the retry budget and prune grace, and refuses nonsense in them naming the field', async () => {
    expect(await loadConfig(home('{"retry":{"attempts":3,"maxDelaySeconds":0.5},"prune":{"graceSeconds":0}}'))).toMatchObject({
      retry: { attempts: 3, maxDelaySeconds: 0.5 },
      prune: { graceSeconds: 0 },
    });
    await expect(loadConfig(home('{"retry":{"attempts":-1}}'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('retry.attempts'),
    });
    await expect(loadConfig(home('{"prune":{"graceSeconds":"1h"}}'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('prune.graceSeconds'),
    });
  });

  it('the default retry budget rides out a 30 s registry outage, even with the shortest jitter', async () => {
    const { retry } = await loadConfig(home());
    const window = retryWindowMs({ retries: retry.attempts, retryMaxMs: retry.maxDelaySeconds * 1000 });
    expect(window).toBeGreaterThanOrEqual(30_000);
    // And it stays bounded: a registry that is gone for good fails within about a minute and a quarter.
    expect(retryWindowMs({ retries: retry.attempts, retryMaxMs: retry.maxDelaySeconds * 1000 }) * 2).toBeLessThanOrEqual(80_000);
  });
});
