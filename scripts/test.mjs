#!/usr/bin/env node
// `npm test`: the whole suite, in the order that fails fastest on the cheapest checks.
//   system tools (installed via apt when root on Debian/Ubuntu) -> build (typechecks) -> typecheck tests -> lint -> format ->
//   svelte-check -> unit -> component -> integration -> e2e (Playwright + Debian Chromium)
// Every step runs even after a failure so one run shows every problem; the exit code is non-zero if
// any failed. The last line is the plain summary `tests: N passed, N failed, N skipped`.
//   node scripts/test.mjs [--only unit,integration,...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemDeps } from './system-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const reports = path.join(root, 'test-results');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;

const counts = { passed: 0, failed: 0, skipped: 0 };
const results = [];

function run(name, cmd, args, { env, count } = {}) {
  if (only && !only.has(name)) return;
  console.log(`\n=== ${name}: ${[path.basename(cmd), ...args].join(' ')}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  let summary = '';
  if (count) {
    try {
      const c = count();
      counts.passed += c.passed;
      counts.failed += c.failed;
      counts.skipped += c.skipped;
      summary = ` (${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped)`;
    } catch {
      summary = ' (no report)';
      if (!ok) counts.failed += 1;
    }
  } else if (!ok) {
    counts.failed += 1;
  }
  results.push({ name, ok, secs: (Date.now() - started) / 1000, summary });
}

function vitestCounts(file) {
  return () => {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    return { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
  };
}

function playwrightCounts(file) {
  return () => {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    return { passed: j.stats.expected + j.stats.flaky, failed: j.stats.unexpected, skipped: j.stats.skipped };
  };
}

if (!only || only.has('system')) {
  console.log('=== system tools');
  if (!ensureSystemDeps({ install: true })) {
    console.error('npm test: system tools are missing (see above).');
    console.log('\ntests: 0 passed, 1 failed');
    process.exit(1);
  }
}

run('build', process.execPath, ['scripts/build.mjs']);
// The build's tsc already type-checks the sources; this adds tests, scripts and benches.
run('typecheck-tests', bin('tsc'), ['-p', 'test/tsconfig.json', '--noEmit']);
run('lint', bin('eslint'), ['--max-warnings', '0', '.']);
run('format', bin('prettier'), ['--check', '**/*.{ts,js,mjs,cjs}']);
run('svelte-check', bin('svelte-check'), ['--tsconfig', 'renderer/tsconfig.json', '--fail-on-warnings', '--output', 'human']);
for (const project of ['unit', 'component', 'integration']) {
  const out = path.join(reports, `${project}.json`);
  run(project, bin('vitest'), ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
    count: vitestCounts(out),
  });
}
{
  const out = path.join(reports, 'e2e.json');
  run('e2e', bin('playwright'), ['test'], { env: { PLAYWRIGHT_JSON_OUTPUT_NAME: out }, count: playwrightCounts(out) });
}

console.log('\n=== summary');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(16)} ${r.secs.toFixed(1).padStart(6)} s${r.summary}`);
const failedSteps = results.filter((r) => !r.ok).length;
console.log(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(failedSteps === 0 ? 0 : 1);
