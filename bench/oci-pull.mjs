#!/usr/bin/env node
// Pull a 256 MiB multi-blob artifact (8 × 32 MiB) from a local docker-registry: Flight Deck
// (`flightdeck pull`) vs `skopeo copy docker://… oci:DIR` in the same run, alternating, fresh
// destination each time. Reports median wall time, the ratio, and peak RSS (from /usr/bin/time), plus
// peak RSS for a single 32 MiB vs 256 MiB blob and a 1 GiB artifact to show memory stays flat as content
// grows. Also `flightdeck pull --output DIR` against the plain pull (goal: ≤ 10 % more) and against
// `skopeo copy docker://… dir:DIR` (the same "files in a folder" result), in the same alternation; the
// output folder is on the store's file system, so the default `--link-mode auto` shares the store's
// files (clone or hard link; the line "output files" says which) and `--link-mode copy` (independent files,
// a second durable write) is timed beside it.
//   node bench/oci-pull.mjs [--runs=7] [--ignore-load]    (or `npm run bench -- oci-pull`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, median, randomFile, startRegistry, timed } from './lib/util.mjs';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'flightdeck.js');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 7);

const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-'));
const registry = await startRegistry(dir);
const { host } = registry;
try {
  const files = [];
  for (let i = 0; i < 8; i++) {
    const f = path.join(dir, `blob-${i}.wasm`);
    randomFile(f, 32 * MiB);
    files.push(f);
  }
  const big = path.join(dir, 'big.wasm');
  randomFile(big, 256 * MiB);
  const quarters = [];
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, `quarter-${i}.wasm`);
    randomFile(f, 256 * MiB);
    quarters.push(f);
  }
  const env = { FLIGHTDECK_HOME: path.join(dir, 'push-home') };
  const push = (ref, fs) => {
    const r = spawnSync(process.execPath, [BIN, 'push', ref, ...fs, '--quiet'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const multi = `${host}/flight/shared-types/bundles/bench:multi`;
  push(multi, files);
  push(`${host}/flight/shared-types/bundles/bench:one32`, [files[0]]);
  push(`${host}/flight/shared-types/bundles/bench:one256`, [big]);
  push(`${host}/flight/shared-types/bundles/bench:gib`, quarters);
  for (const f of [...quarters, big]) rmSync(f);

  await loadAtStart();
  const fd = [];
  const sk = [];
  const fdOut = [];
  const skDir = [];
  const fdCopy = [];
  for (let i = 0; i < runs; i++) {
    const home = path.join(dir, `home-${i}`);
    fd.push(timed(process.execPath, [BIN, 'pull', multi, '--quiet'], { FLIGHTDECK_HOME: home }));
    rmSync(home, { recursive: true, force: true });
    const layout = path.join(dir, `skopeo-${i}`);
    sk.push(timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${multi}`, `oci:${layout}:multi`]));
    rmSync(layout, { recursive: true, force: true });
    const out = path.join(dir, `out-${i}`);
    fdOut.push(timed(process.execPath, [BIN, 'pull', multi, '--output', out, '--quiet'], { FLIGHTDECK_HOME: home }));
    rmSync(home, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    fdCopy.push(timed(process.execPath, [BIN, 'pull', multi, '--output', out, '--link-mode', 'copy', '--quiet'], { FLIGHTDECK_HOME: home }));
    rmSync(home, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    const skOut = path.join(dir, `skopeo-dir-${i}`);
    skDir.push(timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${multi}`, `dir:${skOut}`]));
    rmSync(skOut, { recursive: true, force: true });
  }
  // Which way the default made the output files (one more pull, not timed).
  const methods = (() => {
    const home = path.join(dir, 'home-methods');
    const out = path.join(dir, 'out-methods');
    const r = spawnSync(process.execPath, [BIN, 'pull', multi, '--output', out, '--json'], {
      env: { ...process.env, FLIGHTDECK_HOME: home },
      encoding: 'utf8',
    });
    rmSync(home, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(r.stderr);
    return [...new Set(JSON.parse(r.stdout).files.map((f) => f.method))].join(', ');
  })();
  const rss = {};
  for (const tag of ['one32', 'one256', 'gib']) {
    const home = path.join(dir, `home-${tag}`);
    rss[tag] = timed(process.execPath, [BIN, 'pull', `${host}/flight/shared-types/bundles/bench:${tag}`, '--quiet'], { FLIGHTDECK_HOME: home }).rssMiB;
    rmSync(home, { recursive: true, force: true });
  }
  const fdSecs = median(fd.map((r) => r.secs));
  const skSecs = median(sk.map((r) => r.secs));
  const fdOutSecs = median(fdOut.map((r) => r.secs));
  const skDirSecs = median(skDir.map((r) => r.secs));
  const fdCopySecs = median(fdCopy.map((r) => r.secs));
  const row = (name, rs, secs) => `| ${name} | ${secs.toFixed(2)} | ${(256 / secs).toFixed(0)} | ${Math.max(...rs.map((r) => r.rssMiB)).toFixed(0)} |`;
  const lines = [
    `oci-pull: 256 MiB artifact (8 × 32 MiB blobs), local docker-registry, ${runs} alternating runs each, ${os.cpus().length} cores, node ${process.versions.node}, ${new Date().toISOString()}`,
    `| tool | median s | MiB/s | peak RSS MiB (max) |`,
    `| --- | ---: | ---: | ---: |`,
    row('flightdeck pull (concurrency 3)', fd, fdSecs),
    row('skopeo copy → oci:', sk, skSecs),
    row('flightdeck pull --output DIR', fdOut, fdOutSecs),
    row('flightdeck pull --output DIR --link-mode copy', fdCopy, fdCopySecs),
    row('skopeo copy → dir:', skDir, skDirSecs),
    ``,
    `pull: skopeo oci: time / flightdeck time: ${ratio(skSecs / fdSecs)} (goal ≥ 1.5×)`,
    `pull --output: cost over the plain pull: ${ratio(fdOutSecs / fdSecs)} (goal ≤ 1.10×); skopeo dir: time / flightdeck --output time: ${ratio(skDirSecs / fdOutSecs)} (goal ≥ 1.5×); output files: ${methods}`,
    `pull --output --link-mode copy: cost over the plain pull: ${ratio(fdCopySecs / fdSecs)}; skopeo dir: time / flightdeck time: ${ratio(skDirSecs / fdCopySecs)}`,
    `flightdeck peak RSS: one 32 MiB blob → ${rss.one32.toFixed(0)} MiB, one 256 MiB blob → ${rss.one256.toFixed(0)} MiB, 1 GiB artifact (4 × 256 MiB) → ${rss.gib.toFixed(0)} MiB (goal < 150 MB, flat)`,
    `runs (s): flightdeck ${fd.map((r) => r.secs.toFixed(2)).join(' ')}; skopeo ${sk.map((r) => r.secs.toFixed(2)).join(' ')}; --output ${fdOut.map((r) => r.secs.toFixed(2)).join(' ')}; --link-mode copy ${fdCopy.map((r) => r.secs.toFixed(2)).join(' ')}; skopeo dir: ${skDir.map((r) => r.secs.toFixed(2)).join(' ')}`,
  ];
  console.log(lines.join('\n'));
  loadAtEnd();
} finally {
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
