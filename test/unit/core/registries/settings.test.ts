import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, configFile, loadConfig } from '../../../../core/config/config.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { matchRegistry, parseRegistriesConf } from '../../../../core/registries/registries-conf.js';
import { loadTlsMaterial, parseHeaderFlag, resolveRegistry, type ResolveInput } from '../../../../core/registries/settings.js';
import { proxyFor } from '../../../../core/oci/proxy.js';
import { makeCert } from '../../../support/tls.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-regset-'));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function caught(fn: () => unknown): FlightDeckError {
  try {
    fn();
  } catch (err) {
    return err as FlightDeckError;
  }
  throw new Error('did not throw');
}

describe('config.json registries', () => {
  it('takes the string form and the object form side by side', () => {
    const c = ConfigSchema.parse({ registries: ['a.example', { host: 'lab.example:5000', ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', proxy: 'direct' }] });
    expect(c.registries).toHaveLength(2);
  });

  it('names the file and the path inside it (CONFIG_INVALID)', async () => {
    const home = tmp();
    const paths = resolvePaths({ FLIGHTDECK_HOME: home });
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(configFile(paths), JSON.stringify({ registries: ['a.example', { host: 'b.example', cert: 'c.pem' }] }));
    const err = await loadConfig(paths).catch((e: unknown) => e as FlightDeckError);
    expect(err).toBeInstanceOf(FlightDeckError);
    expect((err as FlightDeckError).code).toBe('CONFIG_INVALID');
    expect((err as FlightDeckError).message).toContain(configFile(paths));
    expect((err as FlightDeckError).message).toContain('registries[1].cert');
    writeFileSync(configFile(paths), JSON.stringify({ registries: [{ host: 'b.example', headers: { 'X-A': 'x\r\ny' } }] }));
    expect(((await loadConfig(paths).catch((e: unknown) => e)) as FlightDeckError).message).toContain('registries[0].headers.X-A');
  });
});

describe('registries.conf v2', () => {
  const text = `
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "lab.example/flight"
location = "lab.example/flight"
blocked = true
[[registry]]
location = "lab.example"
insecure = true
[[registry.mirror]]
location = "mirror.lab:5000"
pull-from-mirror = "digest-only"
[[registry]]
prefix = "*.corp.example"
location = "x.corp.example"
`;
  it('parses prefix/location/insecure/blocked and mirrors, matching the longest prefix and wildcards', () => {
    const conf = parseRegistriesConf(text, '/f/registries.conf');
    expect(matchRegistry(conf, 'lab.example', 'flight/a')?.blocked).toBe(true);
    expect(matchRegistry(conf, 'lab.example', 'flightx/a')?.blocked).toBe(false);
    expect(matchRegistry(conf, 'lab.example')?.mirrors).toEqual([{ location: 'mirror.lab:5000', insecure: false, pullFromMirror: 'digest-only' }]);
    expect(matchRegistry(conf, 'reg.corp.example:443')?.prefix).toBe('*.corp.example');
    expect(matchRegistry(conf, 'other.example')).toBeUndefined();
  });

  it('refuses broken TOML, v1 files and wrong types as CONFIG_INVALID naming the file', () => {
    expect(caught(() => parseRegistriesConf('[[registry]\n', '/f/a.conf')).message).toContain('/f/a.conf is not valid TOML');
    expect(caught(() => parseRegistriesConf('[registries.search]\nregistries = ["x"]\n', '/f/b.conf')).message).toContain('version 1');
    const e = caught(() => parseRegistriesConf('[[registry]]\nlocation = "x"\ninsecure = "yes"\n', '/f/c.conf'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('registry[0].insecure');
  });
});

describe('resolveRegistry precedence: flags > config.json > registries.conf / certs.d > defaults', () => {
  const host = 'lab.example:5000';
  function setup() {
    const d = tmp();
    const root = path.join(d, 'certs.d');
    mkdirSync(path.join(root, host), { recursive: true });
    writeFileSync(path.join(root, host, 'lab.crt'), PEM);
    writeFileSync(path.join(root, host, 'me.cert'), PEM);
    writeFileSync(path.join(root, host, 'me.key'), '-----BEGIN PRIVATE KEY-----\n');
    const flagDir = path.join(d, 'flagdir');
    mkdirSync(flagDir);
    writeFileSync(path.join(flagDir, 'ca.crt'), PEM);
    const base: ResolveInput = {
      host,
      config: ConfigSchema.parse({}),
      configFile: path.join(d, 'config.json'),
      conf: undefined,
      env: { FLIGHTDECK_CERTS_D: root, HOME: d },
    };
    return { d, root, flagDir, base };
  }

  it('takes certs.d when nothing else sets the files, and says so', async () => {
    const { root, base } = setup();
    const r = await resolveRegistry(base);
    expect(r.caFiles).toEqual([path.join(root, host, 'lab.crt')]);
    expect(r.certFile).toBe(path.join(root, host, 'me.cert'));
    expect(r.sources.ca).toEqual({ origin: 'certs.d', from: path.join(root, host) });
    expect(r.sources.clientCert?.origin).toBe('certs.d');
    expect(r.scheme).toBe('https');
    expect(r.sources.scheme?.origin).toBe('default');
  });

  it('config.json beats certs.d, flags beat config.json; --cert-dir replaces the certs.d roots', async () => {
    const { d, flagDir, base } = setup();
    const config = ConfigSchema.parse({ registries: [{ host, ca: 'cfg-ca.pem', plainHttp: true, headers: { 'X-A': '1', 'X-B': '2' } }] });
    const fromConfig = await resolveRegistry({ ...base, config });
    expect(fromConfig.caFiles).toEqual([path.join(d, 'cfg-ca.pem')]);
    expect(fromConfig.sources.ca?.origin).toBe('config.json');
    expect(fromConfig.scheme).toBe('http');
    expect(fromConfig.certFile).toContain('me.cert'); // not set in config.json: the next level's
    const fromFlags = await resolveRegistry({ ...base, config, flags: { certDir: flagDir, headers: ['X-B: flag'] }, conn: { plainHttp: false } });
    expect(fromFlags.caFiles).toEqual([path.join(flagDir, 'ca.crt')]);
    expect(fromFlags.sources.ca).toEqual({ origin: 'flag', from: `--cert-dir ${flagDir}` });
    expect(fromFlags.certFile).toBeUndefined(); // --cert-dir has no pair and replaces the roots
    expect(fromFlags.scheme).toBe('https');
    expect(fromFlags.headers).toEqual({ 'X-A': '1', 'X-B': 'flag' });
  });

  it('blocked and insecure from registries.conf, blocked from config.json first', async () => {
    const { base } = setup();
    const conf = parseRegistriesConf(`[[registry]]\nlocation = "${host}"\nblocked = true\ninsecure = true\n`, '/etc/x.conf');
    const r = await resolveRegistry({ ...base, conf });
    expect(r.blocked).toBe(true);
    expect(r.insecure).toBe(true);
    expect(r.sources.insecure).toEqual({ origin: 'registries.conf', from: '/etc/x.conf' });
    const unblocked = await resolveRegistry({ ...base, conf, config: ConfigSchema.parse({ registries: [{ host, blocked: false }] }) });
    expect(unblocked.blocked).toBe(false);
  });

  it('refuses a key without its certificate in a cert folder, and -H for headers Flight Deck sets itself', async () => {
    const { flagDir, base } = setup();
    writeFileSync(path.join(flagDir, 'lonely.key'), 'k');
    await expect(resolveRegistry({ ...base, flags: { certDir: flagDir } })).rejects.toThrow(/lonely\.key has no certificate/);
    expect(caught(() => parseHeaderFlag('Authorization: Bearer x')).code).toBe('USAGE');
    expect(caught(() => parseHeaderFlag('no colon')).code).toBe('USAGE');
    expect(parseHeaderFlag('X-Lab:  bench 3 ')).toEqual(['X-Lab', 'bench 3']);
  });

  it('warns about a client key readable by group/other; refuses a file that is not PEM, a FIFO, a pair OpenSSL refuses, never echoing content', async () => {
    const { d, root, base } = setup();
    const real = makeCert(d, 'real');
    copyFileSync(real.cert, path.join(root, host, 'me.cert'));
    copyFileSync(real.key, path.join(root, host, 'me.key'));
    writeFileSync(path.join(root, host, 'lab.crt'), real.certPem);
    chmodSync(path.join(root, host, 'me.key'), 0o640);
    const m = await loadTlsMaterial(await resolveRegistry(base));
    expect(m.warnings.join('\n')).toMatch(/me\.key is readable by group\/other \(mode 640\)/);
    chmodSync(path.join(root, host, 'me.key'), 0o600);
    expect((await loadTlsMaterial(await resolveRegistry(base))).warnings).toEqual([]);
    writeFileSync(path.join(root, host, 'lab.crt'), 'garbage');
    await expect(loadTlsMaterial(await resolveRegistry(base))).rejects.toThrow(/lab\.crt .*holds no PEM certificate/);
    writeFileSync(path.join(root, host, 'lab.crt'), real.certPem);
    // A key that looks like PEM but is not one: OpenSSL's reason, not a crash, and nothing of the file.
    const mark = `fd-private-${Math.random().toString(36).slice(2)}`;
    writeFileSync(path.join(root, host, 'me.key'), `-----BEGIN PRIVATE KEY-----\n${mark}\n-----END PRIVATE KEY-----\n`);
    const bad = await loadTlsMaterial(await resolveRegistry(base)).catch((e: unknown) => e as FlightDeckError);
    expect(bad).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((bad as FlightDeckError).message).toMatch(/me\.key \(from [^)]*\): (unsupported|bad base64 decode)\./);
    expect(JSON.stringify((bad as FlightDeckError).toJSON())).not.toContain(mark);
    // A FIFO (nobody writes to it) is refused at once, not read forever.
    rmSync(path.join(root, host, 'me.key'));
    execFileSync('mkfifo', [path.join(root, host, 'me.key')]);
    await expect(loadTlsMaterial(await resolveRegistry(base))).rejects.toThrow(/me\.key \(from .*\): is not a regular file/);
  });
});

describe('proxyFor (curl rules through proxy-from-env)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('proxies loopback unless NO_PROXY names it; lower case works too; a per-registry setting wins', () => {
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'no_proxy']) delete process.env[k];
    process.env.https_proxy = 'http://u:p@127.0.0.1:3128';
    expect(proxyFor(new URL('https://127.0.0.1:5000/v2/'), { kind: 'env' })?.host).toBe('127.0.0.1:3128');
    expect(proxyFor(new URL('http://127.0.0.1:5000/v2/'), { kind: 'env' })).toBeUndefined();
    process.env.NO_PROXY = 'localhost,127.0.0.1';
    expect(proxyFor(new URL('https://127.0.0.1:5000/v2/'), { kind: 'env' })).toBeUndefined();
    process.env.NO_PROXY = '.lab.example';
    expect(proxyFor(new URL('https://reg.lab.example/v2/'), { kind: 'env' })).toBeUndefined();
    expect(proxyFor(new URL('https://reg.other.example/v2/'), { kind: 'env' })?.username).toBe('u');
    expect(proxyFor(new URL('https://reg.other.example/v2/'), { kind: 'direct' })).toBeUndefined();
    expect(proxyFor(new URL('https://reg.lab.example/v2/'), { kind: 'url', url: new URL('http://p:1') })?.host).toBe('p:1');
  });
});

describe('rewriteLocation (containers-registries.conf: the location replaces the matched prefix)', () => {
  it('maps a host-level and a path-level prefix, and a wildcard prefix', async () => {
    const { rewriteLocation } = await import('../../../../core/registries/registries-conf.js');
    expect(rewriteLocation('lab.example', 'flight/app', 'lab.example', 'mirror.lab:5000', 'f')).toEqual({
      registry: 'mirror.lab:5000',
      repository: 'flight/app',
    });
    expect(rewriteLocation('lab.example', 'flight/app', 'lab.example', 'mirror.lab:5000/cache', 'f')).toEqual({
      registry: 'mirror.lab:5000',
      repository: 'cache/flight/app',
    });
    expect(rewriteLocation('lab.example', 'flight/app', 'lab.example/flight', 'mirror.lab/hq', 'f')).toEqual({ registry: 'mirror.lab', repository: 'hq/app' });
    expect(rewriteLocation('a.corp.example:5000', 'x/y', '*.corp.example', 'm.lab/corp', 'f')).toEqual({ registry: 'm.lab', repository: 'corp/x/y' });
    expect(rewriteLocation('a.corp.example', 'x/y', '*.corp.example', '', 'f')).toEqual({ registry: 'a.corp.example', repository: 'x/y' });
    expect(rewriteLocation('lab.example', '', 'lab.example', 'mirror.lab/hq', 'f')).toEqual({ registry: 'mirror.lab', repository: 'hq' });
    expect(() => rewriteLocation('lab.example', 'flight/app', 'lab.example', 'BAD HOST', '/f/r.conf')).toThrow(/\/f\/r\.conf: location/);
  });
});
