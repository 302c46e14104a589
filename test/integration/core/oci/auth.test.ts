import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, checkRegistryAuth } from '../../../../core/oci/client.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { pull, registrySource } from '../../../../core/oci/pull.js';
import { pushFiles } from '../../../../core/oci/push.js';
import { parseReference } from '../../../../core/oci/reference.js';
import type { RegistryCredential } from '../../../../core/credentials/types.js';
import { clearRegisteredSecrets, redact } from '../../../../core/credentials/redact.js';
import { startRegistry, type TestRegistry } from '../../../support/registry.js';
import { startTokenServer, type TokenServer } from '../../../support/token-server.js';
import { startFaultProxy, type FaultProxy } from '../../../support/fault-proxy.js';
import { makeCert } from '../../../support/tls.js';
import { newStore, randomFile, tempDir } from '../../../support/oci.js';

const dir = tempDir();
const file = randomFile(dir, 'session.wasm', 40 * 1024);
const PASSWORD = 'correct-horse-battery-staple';
const basic = (password = PASSWORD): RegistryCredential => ({ kind: 'basic', username: 'alice', password, source: 'flag' });

async function failure(p: Promise<unknown>): Promise<FlightDeckError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  return err as FlightDeckError;
}

describe('htpasswd Basic auth', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', 'alice', PASSWORD], { encoding: 'utf8' });
    registry = await startRegistry({ htpasswd });
  });
  afterAll(() => registry?.stop());

  it('pushes and pulls with the right password', async () => {
    const c = new RegistryClient(registry.host, { credentials: async () => basic() });
    await pushFiles(c, 'flight/shared-types/wasm/session', '1', [{ path: file.path }]);
    const store = await newStore();
    const r = await pull(
      registrySource(c, 'flight/shared-types/wasm/session', '1'),
      store,
      parseReference(`${registry.host}/flight/shared-types/wasm/session:1`),
    );
    expect(r.blobsDownloaded).toBe(2);
    c.close();
    expect(await checkRegistryAuth(registry.host, basic())).toMatchObject({ scheme: 'basic' });
  });

  it('refuses a wrong password or no credentials with REGISTRY_UNAUTHORIZED, never echoing the password', async () => {
    clearRegisteredSecrets();
    const c = new RegistryClient(registry.host, { credentials: async () => basic('wrong-password-value') });
    const err = await failure(c.getManifest('flight/shared-types/wasm/session', '1'));
    expect(err.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(err.message).toContain(registry.host);
    expect(JSON.stringify(err.toJSON())).not.toContain('wrong-password-value');
    // The password was registered for redaction as soon as it was used.
    expect(redact('x wrong-password-value y')).toBe('x *** y');
    c.close();
    const anon = await failure(checkRegistryAuth(registry.host, undefined));
    expect(anon.code).toBe('REGISTRY_UNAUTHORIZED');
  });
});

describe('TLS with a self-signed certificate', () => {
  let registry: TestRegistry;
  let ca: string;
  beforeAll(async () => {
    const pair = makeCert(tempDir(), 'registry');
    ca = pair.certPem;
    registry = await startRegistry({ tls: { cert: pair.cert, key: pair.key } });
  });
  afterAll(() => registry?.stop());

  it('works with the CA given to the client, fails clearly without it, and works with --insecure', async () => {
    const c = new RegistryClient(registry.host, { plainHttp: false, ca });
    await pushFiles(c, 'flight/shared-types/interfaces/wit', '1', [{ path: file.path }]);
    const store = await newStore();
    await pull(registrySource(c, 'flight/shared-types/interfaces/wit', '1'), store, parseReference(`${registry.host}/flight/shared-types/interfaces/wit:1`));
    expect(readFileSync(store.blobPath(file.digest)).equals(file.bytes)).toBe(true);
    c.close();
    const untrusted = new RegistryClient(registry.host, { plainHttp: false });
    const err = await failure(untrusted.ping());
    expect(err.code).toBe('TLS_UNTRUSTED');
    expect(err.message).toContain('flightdeck-test'); // the issuer of the self-signed certificate
    expect(err.hint).toMatch(/--ca-file.*--insecure/);
    untrusted.close();
    expect(await checkRegistryAuth(registry.host, undefined, { plainHttp: false, insecure: true })).toMatchObject({ scheme: 'anonymous' });
  });
});

describe('Bearer token auth (docker-registry behind a token server)', () => {
  let registry: TestRegistry;
  let tokens: TokenServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const pair = makeCert(tempDir(), 'token-signer', 'flightdeck-token');
    tokens = await startTokenServer({ cert: pair.cert, key: pair.key, users: { alice: PASSWORD }, pushAllowed: (_u, repo) => repo.startsWith('flight/') });
    registry = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: pair.cert } });
    proxy = await startFaultProxy(registry.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    await tokens?.stop();
  });

  it('gets a token per scope, caches it, and pushes/pulls', async () => {
    const c = new RegistryClient(registry.host, { credentials: async () => basic() });
    await pushFiles(c, 'flight/shared-types/bindings/go', '2025.06.06', [{ path: file.path }]);
    const afterPush = tokens.requests.length;
    expect(tokens.requests.every((r) => r.account === 'alice')).toBe(true);
    expect(tokens.requests.some((r) => r.scopes.includes('repository:flight/shared-types/bindings/go:pull,push'))).toBe(true);
    const store = await newStore();
    const ref = parseReference(`${registry.host}/flight/shared-types/bindings/go:2025.06.06`);
    await pull(registrySource(c, 'flight/shared-types/bindings/go', '2025.06.06'), store, ref);
    const afterFirstPull = tokens.requests.length;
    expect(afterFirstPull).toBe(afterPush + 1); // one token for the pull scope
    await pull(registrySource(c, 'flight/shared-types/bindings/go', '2025.06.06'), await newStore(), ref);
    expect(tokens.requests.length).toBe(afterFirstPull); // cached per scope
    c.close();
    expect(await checkRegistryAuth(registry.host, basic())).toMatchObject({ scheme: 'bearer' });
  });

  it('refreshes the token once on a 401 and succeeds', async () => {
    const c = new RegistryClient(proxy.host, { credentials: async () => basic() });
    await c.getManifest('flight/shared-types/bindings/go', '2025.06.06');
    const before = tokens.requests.length;
    proxy.rules.push({
      path: /\/manifests\//,
      times: 1,
      fault: {
        kind: 'status',
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:flight/shared-types/bindings/go:pull"` },
      },
    });
    const got = await c.getManifest('flight/shared-types/bindings/go', '2025.06.06');
    expect(got.manifest.kind).toBe('manifest');
    expect(tokens.requests.length).toBe(before + 1);
    c.close();
  });

  it('bad credentials at the token server → REGISTRY_UNAUTHORIZED; push outside the grant is refused', async () => {
    const bad = new RegistryClient(registry.host, { credentials: async () => basic('not-the-password') });
    const err = await failure(bad.getManifest('flight/shared-types/bindings/go', '2025.06.06'));
    expect(err.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(JSON.stringify(err.toJSON())).not.toContain('not-the-password');
    bad.close();
    const c = new RegistryClient(registry.host, { credentials: async () => basic() });
    const denied = await failure(pushFiles(c, 'other/team/repo', '1', [{ path: file.path }]));
    expect(['REGISTRY_UNAUTHORIZED', 'REGISTRY_FORBIDDEN']).toContain(denied.code);
    c.close();
  });
});
