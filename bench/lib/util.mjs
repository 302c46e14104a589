// Helpers shared by the benchmarks in bench/ (this folder is not run by scripts/bench.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const MiB = 1024 * 1024;

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A file of `size` random (incompressible) bytes. */
export function randomFile(file, size) {
  const fd = openSync(file, 'w');
  for (let left = size; left > 0; left -= 4 * MiB) writeSync(fd, randomBytes(Math.min(4 * MiB, left)));
  closeSync(fd);
}

/** Run a command under /usr/bin/time; returns wall seconds, peak RSS in MiB and stdout. */
export function timed(cmd, args, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { secs, rssMiB: kb / 1024, stdout: r.stdout };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A local docker-registry storing under `dir`; resolves once `/v2/` answers. */
export async function startRegistry(dir) {
  const host = `127.0.0.1:${await freePort()}`;
  writeFileSync(
    path.join(dir, 'registry.yml'),
    `version: 0.1\nlog: { level: error, accesslog: { disabled: true } }\nstorage: { filesystem: { rootdirectory: ${dir}/registry } }\nhttp: { addr: ${host}, secret: bench }\n`,
  );
  const child = spawn('docker-registry', ['serve', path.join(dir, 'registry.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, stop: () => child.kill('SIGTERM') };
}

/** A valid (empty) WASM module carrying `bytes` in a custom section named "data". */
export function moduleWithData(bytes) {
  const leb = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return Buffer.from(out);
  };
  const content = Buffer.concat([leb(4), Buffer.from('data'), bytes]);
  return Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]), leb(content.length), content]);
}
