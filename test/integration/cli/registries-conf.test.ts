import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, wsTransport, type WebSocketLike } from '../../../core/api/client.js';
import { runCli, tempHome, NO_PROXY_VARS } from '../../support/cli.js';
import { DEMO_VERSION, seedDemoKit } from '../../support/demo-kit.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { randomFile, tempDir } from '../../support/oci.js';
import { freePort } from '../../support/ports.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { startServe } from '../../support/serve.js';
import { helloModule } from '../../support/wasm.js';

// containers-registries.conf v2 beyond mirrors for pull: registries.conf.d drop-ins, `location` rewrites,
// short-name aliases, and kit build through mirrors. Real docker-registry instances on loopback; the
// "canonical" registries sit behind a fault proxy that logs every request, so a test can say the canonical
// registry saw none. Every registries.conf is written here and passed by --registries-conf or
// CONTAINERS_REGISTRIES_CONF: no test reads /etc. These tests run the built CLI (dist/).
const dir = tempDir('fd-regconf-');
const payload = randomFile(dir, 'payload.wasm', 150 * 1024);

/** A clean environment: no proxy variables from the machine, no certs.d, a fresh home. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    FLIGHTDECK_HOME: tempHome(),
    ...NO_PROXY_VARS,
    FLIGHTDECK_CERTS_D: path.join(dir, 'no-certs-d'),
    DOCKER_CONFIG: path.join(dir, 'no-docker'),
    ...extra,
  };
}

let n = 0;
/** A registries.conf (and drop-ins in FILE.d/) in a fresh folder. */
function conf(main: string, dropIns: Record<string, string> = {}): string {
  const folder = path.join(dir, `conf-${++n}`);
  mkdirSync(folder);
  const file = path.join(folder, 'registries.conf');
  writeFileSync(file, main);
  if (Object.keys(dropIns).length) mkdirSync(`${file}.d`);
  for (const [name, text] of Object.entries(dropIns)) writeFileSync(path.join(`${file}.d`, name), text);
  return file;
}

function errorOf(r: { stdout: string; stderr: string }): { code: string; message: string; hint?: string } {
  try {
    return (JSON.parse(r.stdout) as { error: { code: string; message: string; hint?: string } }).error;
  } catch {
    throw new Error(`no JSON error document on stdout:\n${r.stdout}\n${r.stderr}`);
  }
}
const events = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; phase?: string; endpoint?: string; reason?: string; digest?: string });

/** The ref names of a home's content store. */
function storeRefs(home: string): string[] {
  const index = JSON.parse(readFileSync(path.join(home, 'data', 'store', 'index.json'), 'utf8')) as {
    manifests: Array<{ annotations?: Record<string, string> }>;
  };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
}

describe('location rewrites, drop-ins and aliases', () => {
  let canonical: TestRegistry;
  let front: FaultProxy;
  let internal: TestRegistry;
  /** The canonical name: the fault proxy in front of an (empty) registry, logging every request. */
  let canon: string;
  const prefix = () => `${canon}/foo`;
  const locationConf = () => `[[registry]]\nprefix = "${prefix()}"\nlocation = "${internal.host}/bar"\n`;

  beforeAll(async () => {
    [canonical, internal] = await Promise.all([startRegistry(), startRegistry()]);
    front = await startFaultProxy(canonical.url);
    canon = front.host;
    const r = await runCli(['push', `${internal.host}/bar/flight/app:1`, payload.path], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const m = await runCli(['push', `${internal.host}/bar/flight/hello:1`, writeHello()], { env: env() });
    expect(m.code, m.stderr).toBe(0);
  });
  afterAll(async () => {
    await front?.stop();
    await Promise.all([canonical?.stop(), internal?.stop()]);
  });

  function writeHello(): string {
    const file = path.join(dir, 'hello.wasm');
    writeFileSync(file, helloModule('hi from the lab', 0));
    return file;
  }

  it('a location rewrite pulls from the rewritten registry; the result and the store keep the canonical name; the canonical registry sees nothing', async () => {
    const e = env({ CONTAINERS_REGISTRIES_CONF: conf(locationConf()) });
    const out = path.join(dir, 'out-location');
    const before = front.log.length;
    const r = await runCli(['pull', `${prefix()}/flight/app:1`, '-o', out, '--json'], { env: e });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { reference: string }).reference).toBe(`${prefix()}/flight/app:1`);
    expect(readFileSync(path.join(out, 'payload.wasm')).equals(payload.bytes)).toBe(true);
    expect(storeRefs(e.FLIGHTDECK_HOME!)).toEqual([`${prefix()}/flight/app:1`]);
    expect(front.log.length - before).toBe(0);

    // ls lists the location's tags under the canonical name; push writes to the location (never a mirror).
    const ls = await runCli(['ls', `${prefix()}/flight/app`, '--json'], { env: e });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({ registry: canon, repository: 'foo/flight/app', kind: 'tags', items: ['1'] });
    const push = await runCli(['push', `${prefix()}/flight/pushed:2`, payload.path, '--json'], { env: e });
    expect(push.code, push.stderr).toBe(0);
    const there = await runCli(['ls', `${internal.host}/bar/flight/pushed`, '--json'], { env: env() });
    expect((JSON.parse(there.stdout) as { items: string[] }).items).toEqual(['2']);
    expect(front.log.length - before).toBe(0);

    // Without the rewrite the same pull goes to the canonical registry (which lacks it).
    const plain = await runCli(['pull', `${prefix()}/flight/app:1`, '--json'], { env: env({ CONTAINERS_REGISTRIES_CONF: conf('') }) });
    expect(errorOf(plain).code).toBe('NOT_FOUND');
    expect(front.log.length - before).toBeGreaterThan(0);
  });

  it('credentials are looked up for the host contacted: the canonical name’s are never sent to the location', async () => {
    const password = 'loc-pw-81zq';
    const locked = await startRegistry({ htpasswd: execFileSync('htpasswd', ['-Bbn', 'alice', password], { encoding: 'utf8' }) });
    try {
      const auth = (host: string) => {
        const docker = path.join(dir, `docker-${++n}`);
        mkdirSync(docker);
        writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`alice:${password}`).toString('base64') } } }));
        return docker;
      };
      const seed = await runCli(['push', `${locked.host}/bar/flight/app:1`, payload.path], { env: env({ DOCKER_CONFIG: auth(locked.host) }) });
      expect(seed.code, seed.stderr).toBe(0);
      const file = conf(`[[registry]]\nprefix = "${prefix()}"\nlocation = "${locked.host}/bar"\n`);
      // Credentials for the canonical name (flag and docker config): not for the location, so not sent.
      const flag = await runCli(['pull', `${prefix()}/flight/app:1`, '-u', 'alice', '--password-stdin', '--registries-conf', file, '--json'], {
        env: env({ DOCKER_CONFIG: auth(canon) }),
        input: `${password}\n`,
      });
      expect(errorOf(flag).code).toBe('REGISTRY_UNAUTHORIZED');
      expect(flag.stdout + flag.stderr).not.toContain(password);
      // The location's own credentials work.
      const own = await runCli(['pull', `${prefix()}/flight/app:1`, '--registries-conf', file, '--json'], { env: env({ DOCKER_CONFIG: auth(locked.host) }) });
      expect(own.code, own.stderr).toBe(0);
    } finally {
      await locked.stop();
    }
  });

  it('a registries.conf.d drop-in overrides the main file (same prefix); doctor names the drop-in', async () => {
    const dead = await freePort();
    const file = conf(`[[registry]]\nprefix = "${prefix()}"\nlocation = "127.0.0.1:${dead}/bar"\n`, {
      '50-lab.conf': `${locationConf()}\n[[registry]]\nlocation = "${canon}"\ninsecure = true\n`,
      '40-early.conf': `[[registry]]\nprefix = "${prefix()}"\nlocation = "127.0.0.1:${dead}/early"\n`,
      'notes.txt': 'not a drop-in [[[',
    });
    const r = await runCli(['pull', `${prefix()}/flight/app:1`, '--registries-conf', file, '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { reference: string }).reference).toBe(`${prefix()}/flight/app:1`);

    const doctor = await runCli(['doctor', '--registry', canon, '--registries-conf', file, '--json'], { env: env() });
    const report = JSON.parse(doctor.stdout) as {
      registries: Array<{ host: string; insecure: boolean; sources: Record<string, { origin: string; from?: string }> }>;
    };
    const reg = report.registries.find((x) => x.host === canon);
    expect(reg?.insecure).toBe(true);
    expect(reg?.sources.insecure).toEqual({ origin: 'registries.conf', from: path.join(`${file}.d`, '50-lab.conf') });

    // Without the drop-ins the main file's dead location is used.
    const mainOnly = conf(`[[registry]]\nprefix = "${prefix()}"\nlocation = "127.0.0.1:${dead}/bar"\n`);
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ retry: { attempts: 0 } }));
    const failed = await runCli(['pull', `${prefix()}/flight/app:1`, '--registries-conf', mainOnly, '--json'], { env: env({ FLIGHTDECK_HOME: home }) });
    expect(errorOf(failed).code).toBe('REGISTRY_UNREACHABLE');
    expect(errorOf(failed).message).toContain(`127.0.0.1:${dead}`);
  });

  it('an [aliases] short name resolves for pull, ls and check (with the location rewrite underneath); several search registries are REFERENCE_AMBIGUOUS', async () => {
    const file = conf(
      `unqualified-search-registries = ["one.example", "two.example:5000"]\n[aliases]\n"app" = "${prefix()}/flight/app"\n"hello" = "${prefix()}/flight/hello"\n\n${locationConf()}`,
    );
    const e = env({ CONTAINERS_REGISTRIES_CONF: file });
    const pull = await runCli(['pull', 'app:1', '--json'], { env: e });
    expect(pull.code, pull.stderr).toBe(0);
    expect((JSON.parse(pull.stdout) as { reference: string }).reference).toBe(`${prefix()}/flight/app:1`);
    expect(storeRefs(e.FLIGHTDECK_HOME!)).toContain(`${prefix()}/flight/app:1`);

    const ls = await runCli(['ls', 'app', '--json'], { env: e });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({ registry: canon, repository: 'foo/flight/app', items: ['1'] });

    const check = await runCli(['check', 'hello:1', '--platform', 'dreamcast', '--json'], { env: e });
    expect([0, 7], check.stderr).toContain(check.code);
    const report = JSON.parse(check.stdout) as { target: string; modules: unknown[] };
    expect(report.target).toBe(`${prefix()}/flight/hello:1`);
    expect(report.modules.length).toBe(1);

    const ambiguous = await runCli(['pull', 'other:1', '--json'], { env: e });
    expect(ambiguous.code).toBe(3);
    const err = errorOf(ambiguous);
    expect(err.code).toBe('REFERENCE_AMBIGUOUS');
    expect(err.message).toContain('one.example/other:1, two.example:5000/other:1');

    // A file path that does not exist is still a missing file, not a download (no alias for it).
    const missing = await runCli(['check', 'nothere.wasm', '--platform', 'dreamcast', '--json'], { env: e });
    expect(errorOf(missing).code).toBe('NOT_FOUND');
  });
});

describe('kit build through a mirror', () => {
  const VERSION = DEMO_VERSION;
  let upstream: TestRegistry;
  let upstreamStopped = false;
  let mirror: TestRegistry;
  let front: FaultProxy;
  let seedKit: string;

  beforeAll(async () => {
    [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
    front = await startFaultProxy(mirror.url);
    await seedDemoKit(upstream.host);
    // The mirror gets the same content the way a lab fills one: a kit built from upstream, pushed there.
    seedKit = path.join(dir, 'seed.tar');
    const built = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', `${upstream.host}/flight/shared-types`, '--tag', VERSION, '-o', seedKit], {
      env: env(),
    });
    expect(built.code, built.stderr).toBe(0);
    const pushed = await runCli(['kit', 'push', seedKit, mirror.host], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await front?.stop();
    await Promise.all([upstreamStopped ? undefined : upstream?.stop(), mirror?.stop()]);
  });

  /** A home whose registries.conf mirrors upstream on the fault proxy; few retries for an unreachable registry. */
  function mirrored(): NodeJS.ProcessEnv {
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ retry: { attempts: 1, maxDelaySeconds: 0.1 } }));
    const file = conf(`[[registry]]\nlocation = "${upstream.host}"\n[[registry.mirror]]\nlocation = "${front.host}"\n`);
    return env({ FLIGHTDECK_HOME: home, CONTAINERS_REGISTRIES_CONF: file });
  }
  const build = (e: NodeJS.ProcessEnv, out: string) =>
    runCli(['--json', 'kit', 'build', '-p', 'dreamcast', '--from', `${upstream.host}/flight/shared-types`, '--tag', VERSION, '-o', out], { env: e });

  it('a mirror serving tampered blobs: each falls back to the registry, nothing wrong is stored, the kit verifies', async () => {
    front.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt' } });
    try {
      const e = mirrored();
      const out = path.join(dir, 'tampered.tar');
      const r = await build(e, out);
      expect(r.code, r.stderr).toBe(0);
      const evs = events(r.stderr);
      expect(evs.some((x) => x.event === 'retry' && x.reason?.includes('other content'))).toBe(true);
      const done = evs.filter((x) => x.event === 'progress' && x.phase === 'done');
      expect(done.length).toBeGreaterThan(0);
      for (const x of done) expect(x.endpoint?.startsWith(`${upstream.host}/flight/shared-types/`), JSON.stringify(x)).toBe(true);
      expect(front.log.some((l) => /\/blobs\/sha256:/.test(l.path) && l.fault === 'corrupt')).toBe(true);
      const verify = await runCli(['cache', 'verify', '--json'], { env: e });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      const kit = await runCli(['kit', 'verify', out, '--json'], { env: e });
      expect(kit.code, kit.stdout + kit.stderr).toBe(0);
    } finally {
      front.rules.length = 0;
    }
  });

  it('flightdeck serve: an unreachable registry is tried once per build (not per repository), and again by the next build', async () => {
    // The registry behind a gate that drops every connection, as a registry that is down.
    const gate = await startFaultProxy(upstream.url);
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), JSON.stringify({ retry: { attempts: 1, maxDelaySeconds: 0.1 } }));
    const file = conf(`[[registry]]\nlocation = "${gate.host}"\n[[registry.mirror]]\nlocation = "${front.host}"\n`);
    const serve = await startServe(env({ FLIGHTDECK_HOME: home, CONTAINERS_REGISTRIES_CONF: file }));
    const transport = wsTransport(
      serve.origin.replace('http', 'ws') + '/api/ws',
      serve.token,
      (url, p) => new WebSocket(url, p, { origin: serve.origin }) as unknown as WebSocketLike,
    );
    const api = createClient(transport);
    const kitBuild = (output: string) => api.call('kit.build', { platforms: ['dreamcast'], from: `${gate.host}/flight/shared-types`, tag: VERSION, output });
    try {
      gate.rules.push({ path: /./, fault: { kind: 'drop' } });
      const first = await kitBuild(path.join(dir, 'serve-1.tar'));
      expect(first.lock.source.registry).toBe(gate.host);
      const repositories = first.lock.artifacts.length;
      expect(repositories).toBeGreaterThan(3);
      // The mirror lacks the signature tags: each repository's probe falls back to the registry. Once the
      // registry is found unreachable it is skipped for the rest of this build: a first request and its one
      // retry (and what was already in flight then), not two per repository.
      const dropped = gate.log.length;
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThan(repositories);
      expect(gate.log.every((l) => l.fault === 'drop')).toBe(true);

      // The same long-lived process, the registry back: the next build asks it again.
      gate.rules.length = 0;
      const second = await kitBuild(path.join(dir, 'serve-2.tar'));
      expect(second.lock.source.registry).toBe(gate.host);
      const answered = gate.log.slice(dropped).filter((l) => l.fault === undefined && l.status > 0);
      expect(answered.length).toBeGreaterThan(0);
      expect(serve.exited()).toBe(false);
    } finally {
      transport.close();
      await serve.stop();
      await gate.stop();
    }
  });

  it('with the registry stopped, the kit is built from the mirror alone (events name it); the lock keeps the canonical source', async () => {
    await upstream.stop();
    upstreamStopped = true;
    const e = mirrored();
    const out = path.join(dir, 'airgapped.tar');
    const r = await build(e, out);
    expect(r.code, r.stderr).toBe(0);
    const done = events(r.stderr).filter((x) => x.event === 'progress' && x.phase === 'done');
    expect(done.length).toBeGreaterThan(0);
    for (const x of done) expect(x.endpoint?.startsWith(`${front.host}/flight/shared-types/`), JSON.stringify(x)).toBe(true);
    const result = JSON.parse(r.stdout) as { lock: { source: { registry: string; from: string } } };
    expect(result.lock.source).toMatchObject({ registry: upstream.host, from: `${upstream.host}/flight/shared-types` });
    const kit = await runCli(['kit', 'verify', out, '--json'], { env: e });
    expect(kit.code, kit.stdout + kit.stderr).toBe(0);
  });
});
