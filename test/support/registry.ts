import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './ports.js';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * A real OCI registry: the reference distribution server (`docker-registry` from apt) on 127.0.0.1,
 * storing into a temp dir, stopped by PID.
 */
export async function startRegistry(opts: { htpasswd?: string } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fd-registry-'));
  const port = await freePort();
  const auth = opts.htpasswd
    ? `auth:\n  htpasswd:\n    realm: flightdeck-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : '';
  if (opts.htpasswd) await writeFile(path.join(dir, 'htpasswd'), opts.htpasswd);
  await writeFile(
    path.join(dir, 'config.yml'),
    `version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }
http: { addr: 127.0.0.1:${port}, secret: test-only }
${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      return res.status === 200 || res.status === 401;
    }, `docker-registry on ${port}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
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
