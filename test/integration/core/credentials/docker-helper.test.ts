import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../support/cli.js';
import { helperErase, helperGet, helperList, helperStore } from '../../../../core/credentials/docker-helper.js';
import { dockerCredential, listDockerCredentials, readDockerConfig } from '../../../../core/credentials/docker-config.js';
import { redact } from '../../../../core/credentials/redact.js';
import type { FlightDeckError } from '../../../../core/errors.js';

// The helper protocol against a real child process: test/fixtures/bin/docker-credential-test.
const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-helper-'));
const savedPath = process.env.PATH;
beforeAll(() => {
  process.env.PATH = `${path.join(ROOT, 'test/fixtures/bin')}${path.delimiter}${savedPath}`;
  process.env.FAKE_HELPER_STORE = path.join(dir, 'store.json');
});
afterAll(() => {
  process.env.PATH = savedPath;
  delete process.env.FAKE_HELPER_STORE;
  delete process.env.FAKE_HELPER_BROKEN;
});

describe('docker credential helper protocol', () => {
  it('store, get, list, erase round-trip', async () => {
    await helperStore('test', { ServerURL: 'reg.example:5000', Username: 'bob', Secret: 'helper-pass-1' });
    await helperStore('test', { ServerURL: 'lab.example', Username: '<token>', Secret: 'refresh-tok-2' });
    expect(await helperGet('test', 'reg.example:5000')).toEqual({ ServerURL: 'reg.example:5000', Username: 'bob', Secret: 'helper-pass-1' });
    expect(await helperList('test')).toEqual({ 'reg.example:5000': 'bob', 'lab.example': '<token>' });
    expect(await helperErase('test', 'lab.example')).toBe(true);
    expect(await helperErase('test', 'lab.example')).toBe(false);
    expect(await helperGet('test', 'lab.example')).toBeUndefined();
    // What the helper returned is now scrubbed from any output.
    expect(redact('got helper-pass-1')).toBe('got ***');
  });

  it('resolves docker config through credHelpers, maps <token> to an identity token, lists usernames only', async () => {
    await helperStore('test', { ServerURL: 'id.example', Username: '<token>', Secret: 'refresh-tok-3' });
    const home = mkdtempSync(path.join(os.tmpdir(), 'fd-docker-'));
    writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({
        auths: { 'https://inline.example/v1/': { auth: Buffer.from('alice:inline-pass').toString('base64') } },
        credHelpers: { 'reg.example:5000': 'test', 'id.example': 'test' },
      }),
    );
    const config = (await readDockerConfig({ DOCKER_CONFIG: home }))!;
    expect(await dockerCredential(config, 'reg.example:5000')).toEqual({
      kind: 'basic',
      username: 'bob',
      password: 'helper-pass-1',
      source: 'credential-helper',
    });
    expect(await dockerCredential(config, 'id.example')).toEqual({ kind: 'identity-token', token: 'refresh-tok-3', source: 'credential-helper' });
    expect(await dockerCredential(config, 'inline.example')).toEqual({ kind: 'basic', username: 'alice', password: 'inline-pass', source: 'docker-config' });
    expect(await dockerCredential(config, 'other.example')).toBeUndefined();
    const listed = await listDockerCredentials(config);
    expect(listed.sort((a, b) => a.registry.localeCompare(b.registry))).toEqual([
      { registry: 'id.example', username: undefined, source: 'credential-helper', helper: 'test' },
      { registry: 'inline.example', username: 'alice', source: 'docker-config' },
      { registry: 'reg.example:5000', username: 'bob', source: 'credential-helper', helper: 'test' },
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/helper-pass-1|refresh-tok-3|inline-pass/);
  });

  it('a missing helper is TOOL_MISSING naming it; a failing helper is CREDENTIAL_HELPER_FAILED without leaking', async () => {
    await expect(helperGet('nonexistent-helper', 'x')).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      message: expect.stringContaining('docker-credential-nonexistent-helper'),
    });
    await expect(helperGet('bad name;rm -rf', 'x')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    process.env.FAKE_HELPER_BROKEN = '1';
    try {
      const err = (await helperGet('test', 'reg.example:5000').catch((e: unknown) => e)) as FlightDeckError;
      expect(err.code).toBe('CREDENTIAL_HELPER_FAILED');
      expect(redact(err.message)).not.toContain('helper-pass-1');
    } finally {
      delete process.env.FAKE_HELPER_BROKEN;
    }
  });
});
