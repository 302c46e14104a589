#!/usr/bin/env node
// CLI start-up cost: `flightdeck --version` and `flightdeck doctor --json` against the peer that bounds
// them from below, a bare `node -e ""`, in the same run. Median of N runs each; ratio = flightdeck / node.
// Target: --version under 3x bare node (commands load their modules lazily enough to start fast).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_RUNS ?? 15);
const env = { ...process.env, FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-bench-')) };

function median(cmd, args) {
  const times = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(N / 2)];
}

const bin = path.join(root, 'bin/flightdeck.js');
const node = median(process.execPath, ['-e', '']);
const rows = [
  ['node -e ""  (peer)', node],
  ['flightdeck --version', median(process.execPath, [bin, '--version'])],
  ['flightdeck doctor --json', median(process.execPath, [bin, 'doctor', '--json'])],
  // The same CLI from the unbundled module tree (what the bundle replaces), for reference.
  ['--version, unbundled dist/', median(process.execPath, [path.join(root, 'dist/cli/bin.js'), '--version'])],
];
console.log(`runs per command: ${N} (median wall time)`);
for (const [name, ms] of rows) console.log(`${name.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms   ${(ms / node).toFixed(2)}x node`);
