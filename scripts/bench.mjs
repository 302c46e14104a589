#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/ (.mjs with node, .ts with tsx), one after another, after a
// build (the CLI rows run dist/). Results go to stdout; record them in docs/benchmarks.md. Every bench
// records the load average and withholds its ratios when the machine is busy (bench/lib/load.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Names select benches (`npm run bench -- oci-pull kit`); flags go to each bench (`--ignore-load`, `--runs=9`).
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run(process.execPath, ['scripts/build.mjs', '--quiet']) !== 0) process.exit(1);
let failed = 0;
const files = readdirSync(path.join(root, 'bench'))
  .filter((f) => /\.(mjs|ts)$/.test(f) && !f.endsWith('.d.mts'))
  .sort();
const benches = files.map((f) => f.replace(/\.(mjs|ts)$/, ''));
for (const file of files) {
  // A name selects the bench of exactly that name (`deploy` is bench/deploy.mjs, not deploy-fuzz.ts), else every bench containing it.
  const base = file.replace(/\.(mjs|ts)$/, '');
  if (only.length && !only.some((o) => base === o || (!benches.includes(o) && base.includes(o)))) continue;
  console.log(`\n=== bench/${file}`);
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  if ((file.endsWith('.ts') ? run(tsx, [`bench/${file}`, ...flags]) : run(process.execPath, [`bench/${file}`, ...flags])) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
