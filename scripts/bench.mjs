#!/usr/bin/env node
// `npm run bench`: every benchmark in bench/ (bench/*.mjs run with node, bench/*.ts with tsx), one after
// the other so they do not compete for the 2 cores. Each benchmark measures Flight Deck against a peer in
// the same run (skopeo, wasm-objdump, raw pty throughput) and prints its own table; record results in
// docs/benchmarks.md together with this command.
//   npm run bench [-- name-filter]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2];
const benches = readdirSync(path.join(root, 'bench'))
  .filter((f) => /\.(mjs|ts)$/.test(f) && !f.startsWith('_') && (!filter || f.includes(filter)))
  .sort();
if (benches.length === 0) {
  console.error(`bench: nothing matches ${filter ?? 'bench/*.{mjs,ts}'}`);
  process.exit(1);
}
let failed = 0;
for (const file of benches) {
  console.log(`\n=== bench/${file}`);
  const cmd = file.endsWith('.ts') ? [path.join(root, 'node_modules/.bin/tsx'), path.join('bench', file)] : [process.execPath, path.join('bench', file)];
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
