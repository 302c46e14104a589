#!/usr/bin/env node
// `npm run bench [-- name...]`: build, then run bench/<name>.mjs (all of them by default), one after the
// other. Benchmarks are not timed tests: they print a report and the command to reproduce it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const all = readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4));
const selected = names.length ? names : all;

const build = spawnSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
let failed = 0;
for (const name of selected) {
  if (!all.includes(name)) {
    console.error(`bench: no bench/${name}.mjs (have: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`\n=== bench/${name}.mjs`);
  const r = spawnSync(process.execPath, [path.join('bench', `${name}.mjs`), ...process.argv.slice(2).filter((a) => a.startsWith('-'))], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
