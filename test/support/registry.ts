import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './ports.js';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  /** The registry's temp dir (config, storage). */
  dir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd file content (bcrypt: `htpasswd -Bbn user pass`). */
  htpasswd?: string;
  /**
   * Serve HTTPS with this certificate and key (paths). `ca`: the CA the readiness probe trusts (default:
   * the certificate itself, self-signed); `clientCas`: require a client certificate signed by one of these
   * (`http.tls.clientcas`), `probeClient` being the one the readiness probe presents.
   */
  tls?: { cert: string; key: string; ca?: string; clientCas?: string[]; probeClient?: { cert: string; key: string } };
  /** Bearer token auth: the token server's realm/service/issuer and the signing cert bundle path. */
  token?: { realm: string; service: string; issuer: string; rootcertbundle: string };
  /** Extra YAML appended to the config (top level). */
  extra?: string;
}

/**
 * A real OCI registry: the reference distribution server (`docker-registry` from apt) on 127.0.0.1,
 * storing into a temp dir, stopped by PID.
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fd-registry-'));
  const port = await freePort();
  const auth = opts.htpasswd
    ? `auth:\n  htpasswd:\n    realm: flightdeck-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : opts.token
      ? `auth:\n  token:\n    realm: ${opts.token.realm}\n    service: ${opts.token.service}\n    issuer: ${opts.token.issuer}\n    rootcertbundle: ${opts.token.rootcertbundle}\n`
      : '';
  const clientCas = opts.tls?.clientCas?.length ? `\n    clientcas:${opts.tls.clientCas.map((c) => `\n      - ${c}`).join('')}` : '';
  const tls = opts.tls ? `\n  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}${clientCas}` : '';
  if (opts.htpasswd) await writeFile(path.join(dir, 'htpasswd'), opts.htpasswd);
  await writeFile(
    path.join(dir, 'config.yml'),
    `version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }
http:
  addr: 127.0.0.1:${port}
  secret: test-only${tls}
${auth}${opts.extra ?? ''}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = opts.tls ? await readFile(opts.tls.ca ?? opts.tls.cert) : undefined;
  const client = opts.tls?.probeClient ? { cert: await readFile(opts.tls.probeClient.cert), key: await readFile(opts.tls.probeClient.key) } : undefined;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      const status = await probe(`${url}/v2/`, ca, client);
      return status === 200 || status === 401;
    }, `docker-registry on ${port}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function probe(url: string, ca: Buffer | undefined, client?: { cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { ...(ca ? { ca } : {}), ...(client ?? {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}
