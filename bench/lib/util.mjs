// Helpers shared by the benchmarks in bench/ (this folder is not run by scripts/bench.mjs).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';

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
