#!/usr/bin/env node
// Fleet flashing: `flightdeck deploy` to N = 1, 4, 8 TCP emulators at once (each its own
// `flightdeck emulate` process, fresh slots), wall time of the whole command vs N; then a fast reflash of
// the same fleet with one changed block. Then the same over serial: socat pty pairs with each emulator
// pacing 921600 baud (what real kits are bound by). Goal (issue 10): total wall time grows far slower
// than N. Needs `npm run build` (dist/) and socat.
//   npm run bench -- fleet
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleWithData } from './lib/util.mjs';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/flightdeck.js');
const SIZE = 8 << 20;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-fleet-'));
const env = { ...process.env, FLIGHTDECK_HOME: tmp, NO_COLOR: '1' };
const children = [];

/** A socat pty pair: the emulator serves `device`, the host opens `host`. */
async function ptys(name) {
  const pair = { host: path.join(tmp, `${name}.host`), device: path.join(tmp, `${name}.dev`) };
  children.push(spawn('socat', [`pty,raw,echo=0,link=${pair.host}`, `pty,raw,echo=0,link=${pair.device}`], { stdio: 'ignore' }));
  while (!existsSync(pair.host) || !existsSync(pair.device)) await new Promise((r) => setTimeout(r, 20));
  return pair;
}

function emulate(name, where = ['--listen', 'tcp://127.0.0.1:0']) {
  const child = spawn(
    process.execPath,
    [bin, 'emulate', '--json', '--platform', 'v6r-large', ...where, '--name', name, '--state', mkdtempSync(path.join(tmp, 'kit-'))],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
    });
  });
}

function deployTo(file, names) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, 'deploy', file, ...names.flatMap((n) => ['--device', n]), '--concurrency', '8', '--json'], {
    env,
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`deploy failed (${r.status}): ${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const results = out.results ? out.results.map((x) => x.result) : [out];
  return { ms, results };
}

const stopAll = () => Promise.all(children.splice(0).map((c) => new Promise((r) => (c.exitCode !== null ? r() : (c.once('exit', r), c.kill('SIGTERM'))))));

try {
  const v1 = moduleWithData(randomBytes(SIZE));
  const v2 = Buffer.from(v1);
  v2[v2.length >> 1] ^= 0xff;
  const f1 = path.join(tmp, 'v1.wasm');
  const f2 = path.join(tmp, 'v2.wasm');
  writeFileSync(f1, v1);
  writeFileSync(f2, v2);
  await loadAtStart();
  console.log(`payload ${v1.length} B (random, uncompressible), ${os.cpus().length} cores`);
  let base;
  for (const n of [1, 4, 8]) {
    const names = await Promise.all(Array.from({ length: n }, (_, i) => emulate(`bench-${n}-${i}`).then((e) => e.name)));
    const full = deployTo(f1, names);
    const delta = deployTo(f2, names);
    base ??= full.ms;
    const wire = (rs) => rs.reduce((s, r) => s + r.wireBytes, 0);
    const slowest = Math.max(...full.results.map((r) => r.seconds));
    console.log(
      `N=${n}: full ${(full.ms / 1000).toFixed(2)} s wall (${ratio(full.ms / base)} N=1; slowest device ${slowest.toFixed(2)} s; ` +
        `${((n * v1.length) / 1e6 / (full.ms / 1000)).toFixed(1)} MB/s total) | fast reflash, 1 changed block: ${(delta.ms / 1000).toFixed(2)} s wall, ` +
        `${wire(delta.results)} B on the wire vs ${wire(full.results)} B (${delta.results.map((r) => r.transfer).every((t) => t === 'delta') ? 'all delta' : 'NOT all delta'})`,
    );
    await stopAll();
  }

  const small = moduleWithData(randomBytes(128 << 10));
  const fs = path.join(tmp, 'serial.wasm');
  writeFileSync(fs, small);
  console.log(`serial, socat pty pairs, each emulator pacing 921600 baud; payload ${small.length} B (random)`);
  let serialBase;
  for (const n of [1, 4, 8]) {
    const uris = [];
    for (let i = 0; i < n; i++) {
      const pair = await ptys(`s${n}-${i}`);
      await emulate(`serial-${n}-${i}`, ['--serial', pair.device, '--line-rate', '921600']);
      uris.push(`serial://${pair.host}?baud=921600`);
    }
    const full = deployTo(fs, uris);
    serialBase ??= full.ms;
    const slowest = Math.max(...full.results.map((r) => r.seconds));
    console.log(`N=${n}: ${(full.ms / 1000).toFixed(2)} s wall (${ratio(full.ms / serialBase)} N=1; slowest device ${slowest.toFixed(2)} s)`);
    await stopAll();
  }
  loadAtEnd();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
