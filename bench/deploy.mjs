#!/usr/bin/env node
// Deploy throughput. Over a socat pty pair with the emulator pacing 921600 baud 8N1 (92,160 raw bytes/s):
// the effective payload rate of `deploy` for a real compressible WASM module and for random bytes, against
// a raw paced copy of the same bytes through the same pacing in the same run (the peer). Then TCP loopback
// MB/s. Goals (issue 7): >= 1.5x the raw rate for typical WASM, >= 90% of it for random data, >= 100 MB/s
// over TCP. Needs `npm run build` (dist/) and socat.
//   npm run bench -- deploy
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deploy } from '../dist/core/deploy/deploy.js';
import { profileCheck } from '../dist/core/deploy/check.js';
import { resolvePaths } from '../dist/core/config/paths.js';
import { sha256 } from '../dist/core/deploy/payload.js';
import { openSerial } from '../dist/native-bridge/serial/index.js';
import { openTcp } from '../dist/native-bridge/tcp/index.js';
import { moduleWithData } from './lib/util.mjs';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

/** The host's payload check (the platform rules), with a private home (no user profiles). */
const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-bench-home-')) }));

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BAUD = 921600;
const RAW_RATE = BAUD / 10;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-deploy-'));
const children = [];

function start(cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLIGHTDECK_HOME: tmp } });
  children.push(child);
  const lines = [];
  let buf = '';
  let waiter;
  child.stdout.on('data', (d) => {
    buf += d.toString();
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
      lines.push(buf.slice(0, nl));
      waiter?.();
    }
  });
  const line = async () => {
    while (lines.length === 0) await new Promise((r) => (waiter = r));
    return lines.shift();
  };
  const stop = () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  return { child, line, stop };
}

const payload = (name, bytes) => ({ bytes, sha256: sha256(bytes), name, platform: undefined });

async function deployOver(transport, p, compression = 'auto') {
  return deploy(p, transport, hostCheck, { force: false, resume: false, run: false, compression });
}

async function rawCopy(pty, bytes) {
  const sink = start(process.execPath, [path.join(root, 'bench/lib/paced-sink.mjs'), pty.device, String(BAUD), String(bytes.length)]);
  if ((await sink.line()) !== 'ready') throw new Error('sink did not start');
  const host = await openSerial(pty.host, BAUD);
  const started = performance.now();
  await host.write(bytes);
  const { ms } = JSON.parse(await sink.line());
  await host.close();
  await sink.stop();
  return { ms, wallMs: performance.now() - started };
}

try {
  const pty = { host: path.join(tmp, 'host'), device: path.join(tmp, 'device') };
  const socat = start('socat', [`pty,raw,echo=0,link=${pty.host}`, `pty,raw,echo=0,link=${pty.device}`]);
  while (!existsSync(pty.host) || !existsSync(pty.device)) await new Promise((r) => setTimeout(r, 20));

  const wasm = readFileSync(path.join(root, 'node_modules/playwright-core/lib/webp_codec.wasm'));
  const random = moduleWithData(randomBytes(256 * 1024));
  const serialCases = [
    ['real WASM (webp_codec.wasm, playwright-core)', wasm],
    ['random bytes (custom section)', random],
  ];
  await loadAtStart();
  console.log(`serial: socat pty pair, emulator pacing ${BAUD} baud 8N1 = ${RAW_RATE} raw bytes/s`);
  const rows = [];
  for (const [label, bytes] of serialCases) {
    const emu = start(process.execPath, [
      path.join(root, 'bin/flightdeck.js'),
      'emulate',
      '--json',
      '--platform',
      'v6r-large',
      '--serial',
      pty.device,
      '--line-rate',
      String(BAUD),
      '--state',
      mkdtempSync(path.join(tmp, 'kit-')),
    ]);
    JSON.parse(await emu.line());
    const t = performance.now();
    const r = await deployOver(await openSerial(pty.host, BAUD), payload(label, bytes));
    const ms = performance.now() - t;
    await emu.stop();
    const raw = await rawCopy(pty, bytes);
    const rate = bytes.length / (ms / 1000);
    const rawRate = bytes.length / (raw.ms / 1000);
    rows.push({ label, size: bytes.length, wire: r.wireBytes, compression: r.compression, ms, rate, rawMs: raw.ms, rawRate });
  }
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(46)} ${String(r.size).padStart(7)} B  wire ${String(r.wire).padStart(7)} B (${r.compression})  ` +
        `deploy ${(r.ms / 1000).toFixed(2)} s = ${(r.rate / 1000).toFixed(1)} kB/s  |  raw copy ${(r.rawMs / 1000).toFixed(2)} s = ${(r.rawRate / 1000).toFixed(1)} kB/s  |  ${ratio(r.rate / r.rawRate)} raw (goal ≥ ${r.label.startsWith('real') ? '2.5' : '0.9'}×)`,
    );
  }
  await socat.stop();

  const big = moduleWithData(randomBytes(64 * 1024 * 1024));
  const emu = start(process.execPath, [
    path.join(root, 'bin/flightdeck.js'),
    'emulate',
    '--json',
    '--platform',
    'v6r-large',
    '--listen',
    'tcp://127.0.0.1:0',
    '--state',
    mkdtempSync(path.join(tmp, 'kit-')),
  ]);
  const { uri } = JSON.parse(await emu.line());
  const port = Number(new URL(uri).port);
  let uploadStart = 0;
  let uploadEnd = 0;
  const t = performance.now();
  const r = await deploy(payload('64 MiB random', big), await openTcp('127.0.0.1', port, uri), hostCheck, {
    force: false,
    resume: false,
    run: false,
    compression: 'auto',
    onPhase: (phase) => {
      if (phase === 'upload') uploadStart = performance.now();
      if (phase === 'verify') uploadEnd = performance.now();
    },
  });
  const total = performance.now() - t;
  await emu.stop();
  const mb = big.length / 1e6;
  console.log(
    `tcp loopback: ${mb.toFixed(1)} MB (${r.compression}): upload ${(mb / ((uploadEnd - uploadStart) / 1000)).toFixed(1)} MB/s, ` +
      `whole deploy incl. check, verify (device SHA-256) and commit ${(mb / (total / 1000)).toFixed(1)} MB/s (goal: upload ≥ 100 MB/s)`,
  );
  loadAtEnd();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
