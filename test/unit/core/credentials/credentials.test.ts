import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCredentials, registryAccount } from '../../../../core/credentials/credentials.js';
import { decodeRecord, encodeRecord } from '../../../../core/credentials/keychain-record.js';
import { normalizeRegistryKey, readDockerConfig } from '../../../../core/credentials/docker-config.js';
import { clearRegisteredSecrets, redact } from '../../../../core/credentials/redact.js';
import type { SecretStore } from '../../../../core/credentials/secret-store.js';
import type { RegistryCredential } from '../../../../core/credentials/types.js';
import { FlightDeckError } from '../../../../core/errors.js';

afterEach(() => clearRegisteredSecrets());

/** The SecretStore port held in memory: a test double of the port (the real adapters are integration-tested). */
function memoryStore(): SecretStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    backend: 'memory',
    data,
    get: async (a) => data.get(a) ?? null,
    set: async (a, s) => void data.set(a, s),
    delete: async (a) => data.delete(a),
    accounts: async () => [...data.keys()],
  };
}

function dockerHome(config: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-docker-'));
  writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const okVerify = async () => {};
const basic = (username: string, password: string): RegistryCredential => ({ kind: 'basic', username, password, source: 'flag' });

describe('credential lookup order', () => {
  it('flags, then env, then keychain, then docker config, then anonymous', async () => {
    const store = memoryStore();
    store.data.set('reg.example:5000', encodeRecord({ kind: 'basic', username: 'kc', password: 'kc-pass', source: 'keychain' }));
    const DOCKER_CONFIG = dockerHome({
      auths: { 'reg.example:5000': { auth: Buffer.from('dk:dk-pass').toString('base64') }, 'other.example': { identitytoken: 'dk-refresh' } },
    });
    const env = { DOCKER_CONFIG, HOME: '/nonexistent' };
    const creds = createCredentials({ env, openSecretStore: async () => store, verify: okVerify });

    expect(await creds.provider({ username: 'fl', password: 'fl-pass', registry: 'reg.example:5000' })('reg.example:5000')).toMatchObject({
      source: 'flag',
      username: 'fl',
    });
    const withEnv = createCredentials({
      env: { ...env, ORAS_REGISTRY_TOKEN: 'oras-tok', FLIGHTDECK_REGISTRY_TOKEN: 'fd-tok' },
      openSecretStore: async () => store,
      verify: okVerify,
    });
    expect(await withEnv.provider(undefined, 'reg.example:5000')('reg.example:5000')).toEqual({ kind: 'bearer', token: 'fd-tok', source: 'env' });
    expect(await creds.provider()('reg.example:5000')).toEqual({ kind: 'basic', username: 'kc', password: 'kc-pass', source: 'keychain' });
    expect(await creds.provider()('other.example')).toEqual({ kind: 'identity-token', token: 'dk-refresh', source: 'docker-config' });
    expect(await creds.provider()('anon.example')).toBeUndefined();
  });

  it('a missing keychain falls through to docker config, never to a plaintext store', async () => {
    const DOCKER_CONFIG = dockerHome({ auths: { 'reg.example': { registrytoken: 'dk-bearer' } } });
    const creds = createCredentials({
      env: { DOCKER_CONFIG },
      openSecretStore: async () => {
        throw new FlightDeckError('KEYCHAIN_UNAVAILABLE', 'no secret service');
      },
      verify: okVerify,
    });
    expect(await creds.provider()('reg.example')).toEqual({ kind: 'bearer', token: 'dk-bearer', source: 'docker-config' });
    await expect(creds.login('reg.example', basic('u', 'p'))).rejects.toMatchObject({
      code: 'KEYCHAIN_UNAVAILABLE',
      message: expect.stringContaining('reg.example accepted the credentials, but they cannot be kept'),
    });
    const listed = await creds.list();
    expect(listed.problems).toEqual([{ source: 'keychain', code: 'KEYCHAIN_UNAVAILABLE', message: 'no secret service' }]);
    expect(listed.credentials).toEqual([{ registry: 'reg.example', username: undefined, kind: 'unknown', source: 'docker-config' }]);
  });
});

describe('login, logout, list, test', () => {
  it('a wrong password is REGISTRY_UNAUTHORIZED even where no keychain exists: the registry is asked first', async () => {
    let opened = 0;
    const creds = createCredentials({
      env: { DOCKER_CONFIG: '/nonexistent' },
      openSecretStore: async () => {
        opened++;
        throw new FlightDeckError('KEYCHAIN_UNAVAILABLE', 'no secret service (org.freedesktop.DBus.Error.ServiceUnknown)');
      },
      verify: async (registry) => {
        throw new FlightDeckError('REGISTRY_UNAUTHORIZED', `${registry} refused the credentials.`);
      },
    });
    await expect(creds.login('reg.example', basic('bob', 'wrong'))).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect(opened).toBe(0);
  });

  it('verifies before storing; a refused credential stores nothing', async () => {
    const store = memoryStore();
    const verified: string[] = [];
    const creds = createCredentials({
      env: { DOCKER_CONFIG: '/nonexistent' },
      openSecretStore: async () => store,
      verify: async (registry, cred) => {
        verified.push(registry);
        if (cred?.kind === 'basic' && cred.password !== 'right') throw new FlightDeckError('REGISTRY_UNAUTHORIZED', `${registry} refused the credentials.`);
      },
      now: () => new Date('2026-11-26T12:00:00Z'),
    });
    await expect(creds.login('https://Reg.Example:5000/', basic('bob', 'wrong'))).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect(store.data.size).toBe(0);
    const ok = await creds.login('reg.example:5000', basic('bob', 'right'));
    expect(ok).toEqual({ registry: 'reg.example:5000', username: 'bob', kind: 'basic', source: 'keychain', verifiedAt: '2026-11-26T12:00:00.000Z' });
    expect(verified).toEqual(['reg.example:5000', 'reg.example:5000']);
    const { credentials } = await creds.list();
    expect(credentials).toEqual([ok]);
    expect(JSON.stringify(credentials)).not.toContain('right');
    expect(await creds.test('reg.example:5000')).toMatchObject({ source: 'keychain', username: 'bob' });
    expect(await creds.logout('reg.example:5000')).toEqual({ registry: 'reg.example:5000', removed: true });
    expect(await creds.logout('reg.example:5000')).toEqual({ registry: 'reg.example:5000', removed: false });
  });

  it("lists an env token as applying to each command's target registry, naming the variable, not the value", async () => {
    const creds = createCredentials({
      env: { ORAS_REGISTRY_TOKEN: 'ci-token-xyz', DOCKER_CONFIG: '/nonexistent' },
      openSecretStore: async () => memoryStore(),
      verify: okVerify,
    });
    const { credentials } = await creds.list();
    expect(credentials).toEqual([{ registry: "(each command's target registry)", username: '$ORAS_REGISTRY_TOKEN', kind: 'bearer', source: 'env' }]);
  });

  it('rejects registry names that are not hosts', () => {
    for (const bad of ['', 'a b', '../../etc', '-x.example', 'reg.example:99999999', 'reg_example']) {
      expect(() => registryAccount(bad), bad).toThrow(FlightDeckError);
    }
    expect(registryAccount('HTTPS://Reg.Example:5000/v2/')).toBe('reg.example:5000');
    expect(registryAccount('[::1]:5000')).toBe('[::1]:5000');
  });
});

describe('keychain record', () => {
  it('round-trips every kind and registers the secret for redaction', () => {
    for (const cred of [
      { kind: 'basic', username: 'bob', password: 'pw-1234', source: 'keychain' },
      { kind: 'identity-token', token: 'refresh-1234', source: 'keychain' },
      { kind: 'bearer', token: 'bearer-1234', source: 'keychain' },
    ] as RegistryCredential[]) {
      const r = decodeRecord(encodeRecord(cred, '2026-11-26T00:00:00.000Z'));
      expect(r.kind).toBe(cred.kind);
      expect(r.verifiedAt).toBe('2026-11-26T00:00:00.000Z');
      expect(redact(`x ${r.secret} y`)).toBe('x *** y');
    }
  });
  it('reads a bare value stored by hand as a bearer token', () => {
    expect(decodeRecord('hand-stored-token')).toEqual({ v: 1, kind: 'bearer', secret: 'hand-stored-token' });
    expect(decodeRecord('{"v":2,"secret":"x"}').kind).toBe('bearer');
  });
});

describe('docker config', () => {
  it('names the registry the way docker does', () => {
    expect(normalizeRegistryKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistryKey('http://Reg.Example:5000')).toBe('reg.example:5000');
  });
  it('a broken file is CONFIG_INVALID naming it, without echoing its content', async () => {
    const dir = dockerHome('{"auths": {"x": {"auth": "c2VjcmV0LWluLWZpbGU="} ');
    const err = (await readDockerConfig({ DOCKER_CONFIG: dir }).catch((e: unknown) => e)) as FlightDeckError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(path.join(dir, 'config.json'));
    expect(err.message).not.toContain('c2VjcmV0');
    expect(await readDockerConfig({ DOCKER_CONFIG: '/nonexistent-dir' })).toBeUndefined();
  });
});
