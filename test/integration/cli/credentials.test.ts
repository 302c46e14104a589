import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome, type CliResult } from '../../support/cli.js';
import { startKeyring, type TestKeyring } from '../../support/keyring.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { startTokenServer, type TokenServer } from '../../support/token-server.js';
import { makeCert } from '../../support/tls.js';
import { ERROR_TABLE } from '../../../core/errors.js';

// `flightdeck login/logout/credentials` end to end: the built CLI, a real gnome-keyring in a private
// D-Bus session, real docker-registry with htpasswd and behind a JWT token server, secret-tool as an
// independent reader, and a real docker credential helper process.
const PASSWORD = 'alice-wonderland-9f3k';
const TOKEN_PASSWORD = 'bob-builder-77xq';
const REFRESH_TOKEN = 'carol-refresh-token-5h2m';
let keyring: TestKeyring;
let basicReg: TestRegistry;
let tokenReg: TestRegistry;
let tokens: TokenServer;
let home: string;
const dockerDir = mkdtempSync(path.join(os.tmpdir(), 'fd-docker-'));
const outputs: string[] = [];

beforeAll(async () => {
  keyring = await startKeyring();
  basicReg = await startRegistry({ htpasswd: execFileSync('htpasswd', ['-Bbn', 'alice', PASSWORD], { encoding: 'utf8' }) });
  const pair = makeCert(mkdtempSync(path.join(os.tmpdir(), 'fd-cert-')), 'token-signer', 'flightdeck-token');
  tokens = await startTokenServer({ cert: pair.cert, key: pair.key, users: { bob: TOKEN_PASSWORD }, refreshTokens: { [REFRESH_TOKEN]: 'carol' } });
  tokenReg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: pair.cert } });
  home = tempHome();
});
afterAll(async () => {
  await Promise.all([basicReg?.stop(), tokenReg?.stop(), tokens?.stop()]);
  await keyring?.stop();
});

async function cli(args: string[], input?: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliResult> {
  const r = await runCli(args, {
    env: { ...keyring.env, FLIGHTDECK_HOME: home, DOCKER_CONFIG: dockerDir, ...env },
    timeoutMs,
    ...(input === undefined ? {} : { input }),
  });
  outputs.push(r.stdout, r.stderr);
  return r;
}
const secretTool = (...args: string[]) => execFileSync('secret-tool', args, { env: keyring.env, encoding: 'utf8' });

describe('flightdeck login / logout / credentials (real keychain, real registries)', () => {
  it('a wrong password is REGISTRY_UNAUTHORIZED and stores nothing', async () => {
    const r = await cli(['login', basicReg.host, '-u', 'alice', '--password-stdin'], 'not-the-password\n');
    expect(r.code).toBe(ERROR_TABLE.REGISTRY_UNAUTHORIZED.exit);
    expect(r.stderr).toContain('error[REGISTRY_UNAUTHORIZED]');
    expect(() => secretTool('lookup', 'service', 'flightdeck', 'account', basicReg.host)).toThrow();
    expect(JSON.parse((await cli(['credentials', 'ls', '--json'])).stdout)).toEqual({ credentials: [], problems: [] });
  });

  it('a verified login lands in the OS keychain (read back with secret-tool) and is then used by push and pull', async () => {
    const r = await cli(['login', basicReg.host, '-u', 'alice', '--password-stdin', '--json'], `${PASSWORD}\n`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      registry: basicReg.host,
      username: 'alice',
      kind: 'basic',
      source: 'keychain',
      verifiedAt: expect.any(String),
    });
    const stored = JSON.parse(secretTool('lookup', 'service', 'flightdeck', 'account', basicReg.host)) as { username: string; secret: string };
    expect(stored).toMatchObject({ username: 'alice', secret: PASSWORD });

    const file = path.join(home, 'payload.wasm');
    writeFileSync(file, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const push = await cli(['push', `${basicReg.host}/flight/shared-types/wasm/tiny:1`, file]);
    expect(push.code, push.stderr).toBe(0);
    const pull = await cli(['pull', `${basicReg.host}/flight/shared-types/wasm/tiny:1`, '--json']);
    expect(pull.code, pull.stderr).toBe(0);
  });

  it('credentials ls shows registry, username, source and last verification, never the secret', async () => {
    const human = await cli(['credentials', 'ls']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${basicReg.host.replace(/\./g, '\\.')}\\s+alice\\s+basic\\s+OS keychain\\s+\\d{4}-`));
    const json = JSON.parse((await cli(['credentials', 'ls', '--json'])).stdout) as { credentials: Array<Record<string, unknown>> };
    expect(json.credentials).toEqual([{ registry: basicReg.host, username: 'alice', kind: 'basic', source: 'keychain', verifiedAt: expect.any(String) }]);
    const test = await cli(['credentials', 'test', basicReg.host, '--json']);
    expect(JSON.parse(test.stdout)).toMatchObject({ registry: basicReg.host, source: 'keychain', username: 'alice' });
  });

  it('logs in through a Bearer token service (password exchanged for a token)', async () => {
    const bad = await cli(['login', tokenReg.host, '-u', 'bob', '--password-stdin'], 'nope-nope\n');
    expect(bad.code).toBe(ERROR_TABLE.REGISTRY_UNAUTHORIZED.exit);
    const ok = await cli(['login', tokenReg.host, '-u', 'bob', '--password-stdin'], TOKEN_PASSWORD);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Login succeeded: ${tokenReg.host} as bob`);
    expect(tokens.requests.some((q) => q.account === 'bob' && q.authorized)).toBe(true);
  });

  it('logs in with an identity (OAuth2 refresh) token, exchanged at the token service', async () => {
    const bad = await cli(['login', tokenReg.host, '--identity-token-stdin'], 'not-a-refresh-token');
    expect(bad.code).toBe(ERROR_TABLE.REGISTRY_UNAUTHORIZED.exit);
    const ok = await cli(['login', tokenReg.host, '--identity-token-stdin', '--json'], REFRESH_TOKEN);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ registry: tokenReg.host, kind: 'identity-token', source: 'keychain' });
    expect(tokens.requests.some((q) => q.account === 'carol' && q.authorized)).toBe(true);
    const test = await cli(['credentials', 'test', tokenReg.host, '--json']);
    expect(JSON.parse(test.stdout)).toMatchObject({ kind: 'identity-token', source: 'keychain' });
  });

  it('warns when the password is given as an argument', async () => {
    const r = await cli(['login', basicReg.host, '-u', 'alice', '-p', PASSWORD]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: Using --password on the command line is insecure/);
  });

  it('finds docker config credentials through a credential helper and lists them by username', async () => {
    const store = path.join(dockerDir, 'helper-store.json');
    writeFileSync(store, JSON.stringify({ [tokenReg.host]: { Username: 'bob', Secret: TOKEN_PASSWORD } }));
    writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({ credHelpers: { [tokenReg.host]: 'test' } }));
    const env = { PATH: `${path.join(ROOT, 'test/fixtures/bin')}${path.delimiter}${process.env.PATH}`, FAKE_HELPER_STORE: store };
    await cli(['logout', tokenReg.host]);
    const test = await cli(['credentials', 'test', tokenReg.host, '--json'], undefined, env);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ registry: tokenReg.host, source: 'credential-helper', username: 'bob' });
    const ls = JSON.parse((await cli(['credentials', 'ls', '--json'], undefined, env)).stdout) as { credentials: Array<{ registry: string; source: string }> };
    expect(ls.credentials).toContainEqual({ registry: tokenReg.host, username: 'bob', kind: 'unknown', source: 'credential-helper', helper: 'test' });
  });

  it('logout removes the credential; a second logout says there was nothing', async () => {
    expect((await cli(['logout', basicReg.host])).stdout).toContain(`Removed the credentials of ${basicReg.host}.`);
    expect(() => secretTool('lookup', 'service', 'flightdeck', 'account', basicReg.host)).toThrow();
    expect((await cli(['logout', basicReg.host])).stdout).toContain('nothing to remove');
  });

  it('without a Secret Service: KEYCHAIN_UNAVAILABLE with a hint, nothing written anywhere', async () => {
    const noBus = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
    const r = await cli(['login', basicReg.host, '-u', 'alice', '--password-stdin'], PASSWORD, noBus);
    expect(r.code).toBe(ERROR_TABLE.KEYCHAIN_UNAVAILABLE.exit);
    expect(r.stderr).toContain('error[KEYCHAIN_UNAVAILABLE]');
    expect(r.stderr).toMatch(/hint: .*(gnome-keyring|FLIGHTDECK_REGISTRY_TOKEN)/);
    // The docker config names a helper that is not on PATH here: reported, and no lingering timer (10 s bound).
    const ls = await cli(['credentials', 'ls'], undefined, noBus, 10_000);
    expect(ls.code).toBe(0);
    expect(ls.stderr).toContain('KEYCHAIN_UNAVAILABLE');
    expect(ls.stderr).toContain('[TOOL_MISSING] The docker credential helper docker-credential-test is not on PATH.');
    // No plaintext fallback: no file Flight Deck can write holds the password (the fake helper's own store aside).
    const leaking = [home, dockerDir]
      .flatMap((d) =>
        readdirSync(d, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => path.join(e.parentPath, e.name)),
      )
      .filter((f) => !f.endsWith('helper-store.json') && readFileSync(f).includes(PASSWORD));
    expect(leaking).toEqual([]);
  });

  it('no output of any command above carried a password', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const text of outputs) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(TOKEN_PASSWORD);
      expect(text).not.toContain(REFRESH_TOKEN);
      expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
    }
  });
});
