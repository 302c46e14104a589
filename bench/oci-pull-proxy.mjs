#!/usr/bin/env node
// The same 256 MiB pull (8 × 32 MiB blobs) from a local docker-registry, direct and through a forward
// proxy (Debian tinyproxy, plain-http registry: requests in absolute form), alternating in one run with a
// fresh content store each time. Reports median wall time of each and the overhead of the proxy.
//   node bench/oci-pull-proxy.mjs [--runs=5]         (or `npm run bench -- oci-pull-proxy`)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, freePort, median, randomFile, startRegistry, timed } from './lib/util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'flightdeck.js');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);

const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-proxy-'));
const registry = await startRegistry(dir);
const port = await freePort();
writeFileSync(path.join(dir, 'tinyproxy.conf'), `Port ${port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Warning\nMaxClients 50\nAllow 127.0.0.1\n`);
const proxy = spawn('tinyproxy', ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
for (let i = 0; i < 100; i++) {
  const up = await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
  if (up) break;
  await new Promise((r) => setTimeout(r, 100));
}
const clean = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };
try {
  const files = [];
  for (let i = 0; i < 8; i++) {
    const f = path.join(dir, `blob-${i}.wasm`);
    randomFile(f, 32 * MiB);
    files.push(f);
  }
  const ref = `${registry.host}/flight/shared-types/bundles/bench:multi`;
  const push = spawnSync(process.execPath, [BIN, 'push', ref, ...files, '--quiet'], {
    env: { ...process.env, ...clean, FLIGHTDECK_HOME: path.join(dir, 'push-home') },
    encoding: 'utf8',
  });
  if (push.status !== 0) throw new Error(push.stderr);

  // The proxy's own cost, without Flight Deck: curl fetching the same 8 blobs (3 at a time, as the pull).
  const manifest = await (
    await fetch(`http://${registry.host}/v2/flight/shared-types/bundles/bench/manifests/multi`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })
  ).json();
  const urls = manifest.layers.map((l) => `http://${registry.host}/v2/flight/shared-types/bundles/bench/blobs/${l.digest}`);
  const curlArgs = (viaProxy) => [
    '--silent',
    '--fail',
    '--parallel',
    '--parallel-max',
    '3',
    ...(viaProxy ? ['--proxy', `http://127.0.0.1:${port}`] : ['--noproxy', '*']),
    ...urls.flatMap((u) => [u, '-o', '/dev/null']),
  ];
  const curlDirect = [];
  const curlProxied = [];
  const direct = [];
  const proxied = [];
  for (let i = 0; i < runs; i++) {
    for (const [list, extra] of [
      [direct, {}],
      [proxied, { HTTP_PROXY: `http://127.0.0.1:${port}` }],
    ]) {
      const home = path.join(dir, `home-${i}`);
      list.push(timed(process.execPath, [BIN, 'pull', ref, '--quiet'], { ...clean, ...extra, FLIGHTDECK_HOME: home }));
      rmSync(home, { recursive: true, force: true });
    }
    curlDirect.push(timed('curl', curlArgs(false)));
    curlProxied.push(timed('curl', curlArgs(true)));
  }
  const cd = median(curlDirect.map((r) => r.secs));
  const cp = median(curlProxied.map((r) => r.secs));
  const d = median(direct.map((r) => r.secs));
  const p = median(proxied.map((r) => r.secs));
  console.log(
    [
      `oci-pull-proxy: 256 MiB artifact (8 × 32 MiB blobs), local docker-registry, ${runs} runs each, ${os.cpus().length} cores, node ${process.versions.node}`,
      `| path | median s | MiB/s |`,
      `| --- | ---: | ---: |`,
      `| direct | ${d.toFixed(2)} | ${(256 / d).toFixed(0)} |`,
      `| through tinyproxy (HTTP_PROXY) | ${p.toFixed(2)} | ${(256 / p).toFixed(0)} |`,
      `| curl, same 8 blobs, direct | ${cd.toFixed(2)} | ${(256 / cd).toFixed(0)} |`,
      `| curl, same 8 blobs, through tinyproxy | ${cp.toFixed(2)} | ${(256 / cp).toFixed(0)} |`,
      ``,
      `proxy overhead: flightdeck ${(((p - d) / d) * 100).toFixed(1)}% (target ≤ 10%), curl ${(((cp - cd) / cd) * 100).toFixed(1)}% (the proxy's own cost on this machine)`,
      `runs (s): direct ${direct.map((r) => r.secs.toFixed(2)).join(' ')}; proxy ${proxied.map((r) => r.secs.toFixed(2)).join(' ')}`,
    ].join('\n'),
  );
} finally {
  proxy.kill('SIGTERM');
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
