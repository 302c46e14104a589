#!/usr/bin/env node
// CLI start-up cost: `flightdeck --version`, `flightdeck inspect small.wasm` and `flightdeck doctor --json`
// against the peer that bounds them from below, a bare `node -e ""`, in the same run, interleaved (one run
// of each command per round). Median of N rounds; ratio = flightdeck / node.
// Goals (issue 19): --version ≤ 1.6× bare node, inspect of a small module ≤ 2.5×.
//   node bench/cli-startup.mjs [--ignore-load]      (or `npm run bench -- cli-startup`; BENCH_RUNS=N)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_RUNS ?? 15);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-'));
const env = { ...process.env, FLIGHTDECK_HOME: tmp };
const small = path.join(tmp, 'small.wasm');
writeFileSync(path.join(tmp, 'small.wat'), '(module (memory 1) (func (export "answer") (result i32) i32.const 42))');
execFileSync('wat2wasm', [path.join(tmp, 'small.wat'), '-o', small]);

const bin = path.join(root, 'bin/flightdeck.js');
const commands = [
  ['node -e ""  (peer)', process.execPath, ['-e', '']],
  ['flightdeck --version', process.execPath, [bin, '--version'], 1.6],
  ['flightdeck inspect small.wasm', process.execPath, [bin, 'inspect', small], 2.5],
  ['flightdeck doctor --json', process.execPath, [bin, 'doctor', '--json']],
  // For reference: the same command without the code cache, and from the module tree (what the bundle replaces).
  ['inspect small.wasm, no code cache', process.execPath, [bin, 'inspect', small], undefined, { FLIGHTDECK_CODE_CACHE: '0' }],
  ['inspect small.wasm, module tree', process.execPath, [bin, 'inspect', small], undefined, { FLIGHTDECK_CLI_BUNDLE: '0' }],
];

await loadAtStart();
const times = commands.map(() => []);
for (let i = 0; i < N; i++) {
  commands.forEach(([, cmd, args, , extra], j) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env: { ...env, ...extra }, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    times[j].push(Number(process.hrtime.bigint() - t) / 1e6);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = median(times[0]);
console.log(`rounds: ${N} (median wall time), node ${process.versions.node}, ${new Date().toISOString()}`);
commands.forEach(([name, , , goal], j) => {
  const ms = median(times[j]);
  console.log(`${name.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms   ${ratio(ms / node)} node${goal ? ` (goal ≤ ${goal}×)` : ''}`);
});
loadAtEnd();
rmSync(tmp, { recursive: true, force: true });
