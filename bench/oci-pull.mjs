#!/usr/bin/env node
// Pull a 256 MiB multi-blob artifact (8 × 32 MiB) from a local docker-registry: Flight Deck
// (`flightdeck pull`) vs `skopeo copy docker://… oci:DIR` in the same run, alternating, fresh
// destination each time. Reports median wall time, the ratio, and peak RSS (from /usr/bin/time), plus
// peak RSS for a single 32 MiB vs 256 MiB blob to show memory stays flat as blobs grow.
//   node bench/oci-pull.mjs [--runs=3]         (or `npm run bench -- oci-pull`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, median, randomFile, startRegistry, timed } from './lib/util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'flightdeck.js');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);

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
  const env = { FLIGHTDECK_HOME: path.join(dir, 'push-home') };
  const push = (ref, fs) => {
    const r = spawnSync(process.execPath, [BIN, 'push', ref, ...fs, '--quiet'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const multi = `${host}/flight/shared-types/bundles/bench:multi`;
  push(multi, files);
  push(`${host}/flight/shared-types/bundles/bench:one32`, [files[0]]);
  push(`${host}/flight/shared-types/bundles/bench:one256`, [big]);

  const fd = [];
  const sk = [];
  for (let i = 0; i < runs; i++) {
    const home = path.join(dir, `home-${i}`);
    fd.push(timed(process.execPath, [BIN, 'pull', multi, '--quiet'], { FLIGHTDECK_HOME: home }));
    rmSync(home, { recursive: true, force: true });
    const layout = path.join(dir, `skopeo-${i}`);
    sk.push(timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${multi}`, `oci:${layout}:multi`]));
    rmSync(layout, { recursive: true, force: true });
  }
  const rss = {};
  for (const tag of ['one32', 'one256']) {
    const home = path.join(dir, `home-${tag}`);
    rss[tag] = timed(process.execPath, [BIN, 'pull', `${host}/flight/shared-types/bundles/bench:${tag}`, '--quiet'], { FLIGHTDECK_HOME: home }).rssMiB;
    rmSync(home, { recursive: true, force: true });
  }
  const fdSecs = median(fd.map((r) => r.secs));
  const skSecs = median(sk.map((r) => r.secs));
  const lines = [
    `oci-pull: 256 MiB artifact (8 × 32 MiB blobs), local docker-registry, ${runs} runs each, ${os.cpus().length} cores, node ${process.versions.node}`,
    `| tool | median s | MiB/s | peak RSS MiB (max) |`,
    `| --- | ---: | ---: | ---: |`,
    `| flightdeck pull (concurrency 3) | ${fdSecs.toFixed(2)} | ${(256 / fdSecs).toFixed(0)} | ${Math.max(...fd.map((r) => r.rssMiB)).toFixed(0)} |`,
    `| skopeo copy → oci: | ${skSecs.toFixed(2)} | ${(256 / skSecs).toFixed(0)} | ${Math.max(...sk.map((r) => r.rssMiB)).toFixed(0)} |`,
    ``,
    `speed ratio (skopeo time / flightdeck time): ${(skSecs / fdSecs).toFixed(2)}×`,
    `flightdeck peak RSS, single blob: 32 MiB → ${rss.one32.toFixed(0)} MiB, 256 MiB → ${rss.one256.toFixed(0)} MiB`,
    `runs (s): flightdeck ${fd.map((r) => r.secs.toFixed(2)).join(' ')}; skopeo ${sk.map((r) => r.secs.toFixed(2)).join(' ')}`,
  ];
  console.log(lines.join('\n'));
} finally {
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
