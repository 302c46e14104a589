import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome, NO_PROXY_VARS } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { makeCa, signCert, type CertPair } from '../../support/tls.js';
import { freePort, waitFor } from '../../support/ports.js';
import { randomFile, tempDir } from '../../support/oci.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';

// Lab registries on loopback: docker-registry with TLS from a test CA and a required client certificate
// (http.tls.clientcas), a plain-http one, and tinyproxy as the forward proxy (config written here).
// These tests run the built CLI (dist/): `npm run build` first.

const dir = tempDir('fd-reg-');
/** An empty registries.conf, so no test reads the machine's /etc/containers/registries.conf. */
const emptyConf = path.join(dir, 'empty-registries.conf');
writeFileSync(emptyConf, '');
const file = randomFile(dir, 'payload.wasm', 300 * 1024);
let lab: CertPair;
let clients: CertPair;
let client: CertPair;
let rogueClient: CertPair;
let mtls: TestRegistry;
let plain: TestRegistry;
/** A folder as skopeo's --cert-dir wants it: ca.crt, client.cert, client.key. */
const certDir = path.join(dir, 'certdir');
let proxy: { port: number; log: string; stop(): Promise<void> };
let authProxy: { port: number; log: string; stop(): Promise<void> };
const PROXY_PASSWORD = 'proxy-pw-Kq27xz';

/** A clean environment: no proxy variables inherited from the machine. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    FLIGHTDECK_HOME: tempHome(),
    ...NO_PROXY_VARS,
    FLIGHTDECK_CERTS_D: path.join(dir, 'no-certs-d'),
    CONTAINERS_REGISTRIES_CONF: emptyConf,
    ...extra,
  };
}

/** tinyproxy in the foreground with a config written here, bound to 127.0.0.1. */
async function startTinyproxy(name: string, extra = ''): Promise<{ port: number; log: string; stop(): Promise<void> }> {
  const port = await freePort();
  const log = path.join(dir, `${name}.log`);
  const conf = path.join(dir, `${name}.conf`);
  writeFileSync(log, '');
  writeFileSync(conf, `Port ${port}\nListen 127.0.0.1\nTimeout 60\nLogFile "${log}"\nLogLevel Info\nMaxClients 20\nAllow 127.0.0.1\n${extra}`);
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(
    () =>
      new Promise<boolean>((resolve, reject) => {
        if (child.exitCode !== null) return reject(new Error(`tinyproxy exited: ${stderr}`));
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    `tinyproxy on ${port}`,
  );
  return {
    port,
    log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  lab = makeCa(dir, 'lab', 'Flight Lab Root CA');
  clients = makeCa(dir, 'clients', 'Flight Lab Clients CA');
  const rogue = makeCa(dir, 'rogue', 'Rogue CA');
  const server = signCert(dir, lab, 'server');
  client = signCert(dir, clients, 'client', { client: true, certExt: 'cert' });
  rogueClient = signCert(dir, rogue, 'rogue-client', { client: true });
  mkdirSync(certDir);
  copyFileSync(lab.cert, path.join(certDir, 'ca.crt'));
  copyFileSync(client.cert, path.join(certDir, 'client.cert'));
  copyFileSync(client.key, path.join(certDir, 'client.key'));
  chmodSync(path.join(certDir, 'client.key'), 0o600);
  [mtls, plain, proxy, authProxy] = await Promise.all([
    startRegistry({
      tls: { cert: server.cert, key: server.key, ca: lab.cert, clientCas: [clients.cert], probeClient: { cert: client.cert, key: client.key } },
    }),
    startRegistry(),
    startTinyproxy('proxy'),
    startTinyproxy('auth-proxy', `BasicAuth flight ${PROXY_PASSWORD}\n`),
  ]);
});

afterAll(async () => {
  await Promise.all([mtls?.stop(), plain?.stop(), proxy?.stop(), authProxy?.stop()]);
});

const tlsFlags = () => ['--no-plain-http', '--ca-file', lab.cert, '--cert-file', client.cert, '--key-file', client.key];
const mref = (tag = '1') => `${mtls.host}/flight/lab/payload:${tag}`;

/** The `{ "error": ... }` document a failed `--json` command prints on stdout. */
function errorOf(r: { stdout: string; stderr: string }): { code: string; message: string; hint?: string } {
  try {
    return (JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } }).error;
  } catch {
    throw new Error(`no JSON error document on stdout:\n${r.stdout}\n${r.stderr}`);
  }
}

describe('private CA and client certificates (mTLS docker-registry)', () => {
  it('refuses an untrusted certificate with TLS_UNTRUSTED naming the issuer and where its CA goes', async () => {
    const r = await runCli(['push', mref(), file.path, '--no-plain-http', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(4);
    const e = errorOf(r);
    expect(e.code).toBe('TLS_UNTRUSTED');
    expect(e.message).toContain('Flight Lab Root CA');
    expect(e.hint).toContain('--ca-file');
    expect(e.hint).toContain(path.join(dir, 'no-certs-d', mtls.host));
  });

  it('with the CA but no client certificate: TLS_CLIENT_CERT_REQUIRED; with a foreign one: TLS_CLIENT_CERT_REJECTED', async () => {
    const none = await runCli(['push', mref(), file.path, '--no-plain-http', '--ca-file', lab.cert, '--json'], { env: env() });
    expect(none.code, none.stderr).toBe(5);
    expect(errorOf(none).code).toBe('TLS_CLIENT_CERT_REQUIRED');
    const rogue = await runCli(
      ['push', mref(), file.path, '--no-plain-http', '--ca-file', lab.cert, '--cert-file', rogueClient.cert, '--key-file', rogueClient.key, '--json'],
      {
        env: env(),
      },
    );
    expect(rogue.code, rogue.stderr).toBe(5);
    expect(errorOf(rogue).code).toBe('TLS_CLIENT_CERT_REJECTED');
  });

  it('pushes with --ca-file/--cert-file/--key-file; pulls with --cert-dir and from a certs.d root; skopeo reads it with the same --cert-dir', async () => {
    const push = await runCli(['push', mref(), file.path, ...tlsFlags(), '--json'], { env: env() });
    expect(push.code, push.stderr + push.stdout).toBe(0);
    const digest = (JSON.parse(push.stdout) as { digest: string }).digest;

    const out1 = path.join(dir, 'out-certdir');
    const viaDir = await runCli(['pull', mref(), '--no-plain-http', '--cert-dir', certDir, '-o', out1, '--json'], { env: env() });
    expect(viaDir.code, viaDir.stderr).toBe(0);
    expect(readFileSync(path.join(out1, 'payload.wasm')).equals(file.bytes)).toBe(true);

    const root = path.join(dir, 'certs.d');
    mkdirSync(path.join(root, mtls.host), { recursive: true });
    for (const f of ['ca.crt', 'client.cert', 'client.key']) copyFileSync(path.join(certDir, f), path.join(root, mtls.host, f));
    chmodSync(path.join(root, mtls.host, 'client.key'), 0o600);
    const ls = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--json'], { env: env({ FLIGHTDECK_CERTS_D: root }) });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('"1"');

    const raw = execFileSync('skopeo', ['inspect', '--raw', '--cert-dir', certDir, `docker://${mref()}`]);
    expect(`sha256:${(await import('node:crypto')).createHash('sha256').update(raw).digest('hex')}`).toBe(digest);
  });

  it('takes the files from config.json per registry, and warns about a client key others can read', async () => {
    const home = tempHome();
    const loose = path.join(dir, 'loose.key');
    copyFileSync(client.key, loose);
    chmodSync(loose, 0o644);
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(
      path.join(home, 'config', 'config.json'),
      JSON.stringify({
        registries: ['localhost:1', { host: mtls.host, plainHttp: false, ca: lab.cert, cert: client.cert, key: loose, headers: { 'X-Lab': 'bench-3' } }],
      }),
    );
    const r = await runCli(['ls', `${mtls.host}/flight/lab/payload`], { env: { ...env(), FLIGHTDECK_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: The client key .*loose\.key is readable by group\/other/);

    const doctor = await runCli(['doctor', '--json'], { env: { ...env(), FLIGHTDECK_HOME: home } });
    expect(doctor.code, doctor.stderr).toBe(0);
    const report = JSON.parse(doctor.stdout) as {
      registries: Array<{ host: string; sources: Record<string, { origin: string; from?: string }>; headers: string[] }>;
    };
    const reg = report.registries.find((x) => x.host === mtls.host);
    expect(reg?.sources.ca).toEqual({ origin: 'config.json', from: path.join(home, 'config', 'config.json') });
    expect(reg?.sources.clientCert?.origin).toBe('config.json');
    expect(reg?.sources.proxy?.origin).toBe('default');
    expect(reg?.headers).toEqual(['X-Lab']);
  });

  it('test-connection reports each step: the chain and its CA, the client certificate, the auth answer; and the step that fails', async () => {
    const ok = await runCli(['test-connection', mtls.host, '--no-plain-http', '--cert-dir', certDir, '--json'], { env: env() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { ok: boolean; steps: Array<{ step: string; status: string; detail: string; code?: string }> };
    expect(report.ok).toBe(true);
    const step = (name: string) => report.steps.find((s) => s.step === name);
    expect(step('tls')?.detail).toContain('verified by "Flight Lab Root CA"');
    expect(step('client-cert')?.detail).toContain('accepted');
    expect(step('http')?.detail).toContain('/v2/ → 200');

    const noCert = await runCli(['test-connection', mtls.host, '--no-plain-http', '--ca-file', lab.cert, '--json'], { env: env() });
    expect(noCert.code).toBe(5);
    const failed = (JSON.parse(noCert.stdout) as typeof report).steps.find((s) => s.status === 'fail');
    expect(failed).toMatchObject({ step: 'client-cert', code: 'TLS_CLIENT_CERT_REQUIRED' });

    const viaProxy = await runCli(['test-connection', mtls.host, '--no-plain-http', '--cert-dir', certDir, '--json'], {
      env: env({ HTTPS_PROXY: `http://flight:${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}` }),
    });
    expect(viaProxy.code, viaProxy.stdout).toBe(0);
    expect(viaProxy.stdout).toContain(`CONNECT ${mtls.host} through http://***@127.0.0.1:${authProxy.port}`);
    expect(viaProxy.stdout + viaProxy.stderr).not.toContain(PROXY_PASSWORD);
  });

  it('names the file and the path inside it for a bad registries entry (CONFIG_INVALID)', async () => {
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    const cfg = path.join(home, 'config', 'config.json');
    writeFileSync(cfg, JSON.stringify({ registries: ['a.example', { host: 'b.example', proxy: 'socks5://x:1' }] }));
    const r = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--json'], { env: { ...env(), FLIGHTDECK_HOME: home } });
    expect(r.code).toBe(3);
    const e = errorOf(r);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(cfg);
    expect(e.message).toContain('registries[1].proxy');
  });
});

describe('forward proxy (tinyproxy)', () => {
  it('tunnels https (CONNECT) and sends plain http in absolute form through the proxy; its log shows both', async () => {
    const viaProxy = env({ HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, HTTP_PROXY: `http://127.0.0.1:${proxy.port}` });
    const pull = await runCli(['pull', mref(), '--no-plain-http', '--cert-dir', certDir, '-o', path.join(dir, 'out-proxy'), '--json'], { env: viaProxy });
    expect(pull.code, pull.stderr).toBe(0);
    const push = await runCli(['push', `${plain.host}/flight/lab/plain:1`, file.path, '--plain-http', '--json'], { env: viaProxy });
    expect(push.code, push.stderr + push.stdout).toBe(0);
    const log = readFileSync(proxy.log, 'utf8');
    expect(log).toContain(`CONNECT ${mtls.host}`);
    expect(log).toMatch(new RegExp(`(PUT|POST|HEAD|GET) http://${plain.host.replace(/\./g, '\\.')}/v2/`));
  });

  it('NO_PROXY bypasses the proxy; a dead proxy is PROXY_UNREACHABLE; config.json "proxy" overrides the environment', async () => {
    const dead = await freePort();
    const bypass = await runCli(['ls', `${plain.host}/flight/lab/plain`, '--json'], {
      env: env({ HTTP_PROXY: `http://127.0.0.1:${dead}`, NO_PROXY: '127.0.0.1' }),
    });
    expect(bypass.code, bypass.stderr).toBe(0);

    const down = await runCli(['ls', `${plain.host}/flight/lab/plain`, '--json'], { env: env({ HTTP_PROXY: `http://127.0.0.1:${dead}` }) });
    expect(down.code, down.stderr).toBe(4);
    expect(errorOf(down).code).toBe('PROXY_UNREACHABLE');
    const downTls = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--cert-dir', certDir, '--json'], {
      env: env({ HTTPS_PROXY: `http://127.0.0.1:${dead}` }),
    });
    expect(downTls.code, downTls.stderr).toBe(4);
    expect(errorOf(downTls).code).toBe('PROXY_UNREACHABLE');

    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ registries: [{ host: plain.host, proxy: `http://127.0.0.1:${proxy.port}` }] }));
    const before = readFileSync(proxy.log, 'utf8').length;
    const fixed = await runCli(['ls', `${plain.host}/flight/lab/plain`, '--json'], {
      env: { ...env({ HTTP_PROXY: `http://127.0.0.1:${dead}` }), FLIGHTDECK_HOME: home },
    });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(readFileSync(proxy.log, 'utf8').slice(before)).toContain(`http://${plain.host}/v2/`);
  });

  it('a proxy that wants credentials: PROXY_AUTH_REQUIRED without, works with them in the URL, never printing them', async () => {
    const noAuth = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--cert-dir', certDir, '--json'], {
      env: env({ HTTPS_PROXY: `http://127.0.0.1:${authProxy.port}` }),
    });
    expect(noAuth.code, noAuth.stderr).toBe(5);
    expect(errorOf(noAuth).code).toBe('PROXY_AUTH_REQUIRED');
    const withAuth = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--cert-dir', certDir, '--json', '--verbose'], {
      env: env({ HTTPS_PROXY: `http://flight:${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}` }),
    });
    expect(withAuth.code, withAuth.stderr).toBe(0);
    const wrong = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--cert-dir', certDir, '--json', '--verbose'], {
      env: env({ HTTPS_PROXY: `http://flight:wrong-${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}` }),
    });
    expect(wrong.code, wrong.stderr).toBe(5);
    expect(errorOf(wrong).code).toBe('PROXY_AUTH_REQUIRED');
    for (const r of [noAuth, withAuth, wrong]) expect(r.stdout + r.stderr).not.toContain(PROXY_PASSWORD);
  });
});

describe('registries.conf', () => {
  it('a blocked registry is refused before any connection (REGISTRY_BLOCKED), by --registries-conf and by CONTAINERS_REGISTRIES_CONF', async () => {
    let connections = 0;
    const trap = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(trap.address() as net.AddressInfo).port}`;
    const conf = path.join(dir, 'registries.conf');
    writeFileSync(
      conf,
      `unqualified-search-registries = ["docker.io"]\n\n[[registry]]\nprefix = "${host}/flight"\nlocation = "${host}/flight"\nblocked = true\n`,
    );
    try {
      const byFlag = await runCli(['pull', `${host}/flight/lab/payload:1`, '--registries-conf', conf, '--json'], { env: env() });
      expect(byFlag.code, byFlag.stderr).toBe(4);
      expect(errorOf(byFlag).code).toBe('REGISTRY_BLOCKED');
      const byEnv = await runCli(['ls', `${host}/flight/lab/payload`, '--json'], { env: env({ CONTAINERS_REGISTRIES_CONF: conf }) });
      expect(errorOf(byEnv).code).toBe('REGISTRY_BLOCKED');
      expect(connections).toBe(0);
    } finally {
      trap.close();
    }
  });

  it('insecure = true in registries.conf skips verification of the lab certificate (the client certificate still comes from certs.d)', async () => {
    const conf = path.join(dir, 'insecure.conf');
    writeFileSync(conf, `[[registry]]\nlocation = "${mtls.host}"\ninsecure = true\n`);
    const r = await runCli(['ls', `${mtls.host}/flight/lab/payload`, '--no-plain-http', '--json'], { env: env({ CONTAINERS_REGISTRIES_CONF: conf }) });
    // No CA given: without the registries.conf entry this is TLS_UNTRUSTED; the client certificate is still missing.
    expect(errorOf(r).code).toBe('TLS_CLIENT_CERT_REQUIRED');
  });
});

describe('mirrors (two docker-registry instances, the mirror behind a fault proxy)', () => {
  let upstream: TestRegistry;
  let mirror: TestRegistry;
  let front: FaultProxy;
  const repo = 'flight/lab/mirrored';
  const big = randomFile(dir, 'mirrored.wasm', 200 * 1024);

  beforeAll(async () => {
    [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
    front = await startFaultProxy(mirror.url);
    for (const [reg, tag] of [
      [upstream, '1'],
      [mirror, '1'],
      [upstream, 'only-up'],
    ] as const) {
      const r = await runCli(['push', `${reg.host}/${repo}:${tag}`, big.path], { env: env() });
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await front?.stop();
    await Promise.all([upstream?.stop(), mirror?.stop()]);
  });

  /** A home whose config.json gives `upstream` these mirrors. */
  function mirrorHome(mirrors: string[], pullFromMirror?: string): NodeJS.ProcessEnv {
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(
      path.join(home, 'config', 'config.json'),
      JSON.stringify({
        registries: [{ host: upstream.host, mirrors: mirrors.map((location) => ({ location })), ...(pullFromMirror ? { pullFromMirror } : {}) }],
      }),
    );
    return { ...env(), FLIGHTDECK_HOME: home };
  }
  const events = (stderr: string) =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; phase?: string; endpoint?: string; reason?: string; digest?: string });

  it('pulls from the mirror (events name it), keeps the canonical reference, and falls back when the mirror is down or lacks the tag', async () => {
    const e1 = mirrorHome([front.host]);
    const r = await runCli(['pull', `${upstream.host}/${repo}:1`, '--json'], { env: e1 });
    expect(r.code, r.stderr).toBe(0);
    const done = events(r.stderr).filter((e) => e.event === 'progress' && e.phase === 'done');
    expect(done.length).toBeGreaterThan(0);
    for (const e of done) expect(e.endpoint).toBe(`${front.host}/${repo}`);
    expect((JSON.parse(r.stdout) as { reference: string }).reference).toBe(`${upstream.host}/${repo}:1`);

    const dead = await freePort();
    const down = await runCli(['pull', `${upstream.host}/${repo}:1`, '--json'], { env: mirrorHome([`127.0.0.1:${dead}`]) });
    expect(down.code, down.stderr).toBe(0);
    expect(events(down.stderr).some((e) => e.event === 'retry' && e.reason?.includes(`mirror 127.0.0.1:${dead}/${repo} failed`))).toBe(true);

    const missing = await runCli(['pull', `${upstream.host}/${repo}:only-up`, '--json'], { env: e1 });
    expect(missing.code, missing.stderr).toBe(0);
    expect(events(missing.stderr).some((e) => e.event === 'retry' && e.reason?.includes('NOT_FOUND'))).toBe(true);
  });

  it('a tampered blob from the mirror is never stored: the blob comes from the registry instead', async () => {
    front.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt' } });
    try {
      const e = mirrorHome([front.host]);
      const out = path.join(dir, 'out-tamper');
      const r = await runCli(['pull', `${upstream.host}/${repo}:1`, '-o', out, '--json'], { env: e });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path.join(out, 'mirrored.wasm')).equals(big.bytes)).toBe(true);
      const evs = events(r.stderr);
      expect(
        evs.some((x) => x.event === 'retry' && x.reason?.includes('other content')),
        r.stderr,
      ).toBe(true);
      for (const x of evs.filter((x) => x.event === 'progress' && x.phase === 'done')) expect(x.endpoint).toBe(`${upstream.host}/${repo}`);
      const verify = await runCli(['cache', 'verify', '--json'], { env: e });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    } finally {
      front.rules.length = 0;
    }
  });

  it('digest-only skips the mirror for a tag; every endpoint failing is MIRROR_FAILED listing each one', async () => {
    const before = front.log.length;
    const tagPull = await runCli(['pull', `${upstream.host}/${repo}:1`, '--json'], { env: mirrorHome([front.host], 'digest-only') });
    expect(tagPull.code, tagPull.stderr).toBe(0);
    expect(front.log.length).toBe(before);
    const digest = (JSON.parse(tagPull.stdout) as { digest: string }).digest;
    const byDigest = await runCli(['pull', `${upstream.host}/${repo}@${digest}`, '--json'], { env: mirrorHome([front.host], 'digest-only') });
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(front.log.length).toBeGreaterThan(before);

    const none = await runCli(['pull', `${upstream.host}/${repo}:nowhere`, '--json'], { env: mirrorHome([front.host]) });
    expect(none.code).not.toBe(0);
    const err = errorOf(none);
    expect(err.code).toBe('MIRROR_FAILED');
    expect(err.message).toContain(`${front.host}/${repo}: [NOT_FOUND]`);
    expect(err.message).toContain(`${upstream.host}/${repo}: [NOT_FOUND]`);
  });
});
