#!/usr/bin/env node
// Run @doyensec/electronegativity (the Electron security linter) over what makes up the desktop shell:
// electron/ (main, preload) and renderer/index.html (its CSP meta tag), staged in one temp folder, and
// write a JSON report { checks, errors, issues: [{ id, severity, confidence, file, line, sample }] }.
// Its own CLI breaks with the commander version hoisted here, so this calls its programmatic entry point.
//   node scripts/electronegativity.mjs [--input DIR] [--output report.json]
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const mod = require('@doyensec/electronegativity');
const run = typeof mod === 'function' ? mod : mod.default;
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const output = path.resolve(arg('--output') ?? path.join(root, 'test-results', 'electronegativity.json'));

let input = arg('--input') && path.resolve(arg('--input'));
let staged;
if (!input) {
  staged = mkdtempSync(path.join(os.tmpdir(), 'fd-eneg-'));
  cpSync(path.join(root, 'electron'), path.join(staged, 'electron'), { recursive: true });
  mkdirSync(path.join(staged, 'renderer'));
  cpSync(path.join(root, 'renderer', 'index.html'), path.join(staged, 'renderer', 'index.html'));
  input = staged;
}
try {
  const { version } = require('electron/package.json');
  const result = await run({ input, isRelative: true, electronVersionOverride: version, customScan: [], excludeFromScan: [] }, false);
  const report = {
    tool: 'electronegativity',
    electron: version,
    checks: result.globalChecks + result.atomicChecks,
    errors: result.errors,
    issues: result.issues.map((i) => ({
      id: i.id,
      severity: i.severity.name,
      confidence: i.confidence.name,
      file: path.isAbsolute(i.file) ? path.relative(input, i.file) : i.file,
      line: i.location?.line,
      sample: i.sample,
      manualReview: i.manualReview,
    })),
  };
  mkdirSync(path.dirname(output), { recursive: true });
  writeFileSync(output, JSON.stringify(report, null, 2));
  const bad = report.issues.filter((i) => i.severity === 'HIGH' || i.severity === 'MEDIUM');
  console.log(
    `electronegativity: ${report.checks} checks, ${report.issues.length} findings (${bad.length} high/medium) -> ${path.relative(process.cwd(), output)}`,
  );
} finally {
  if (staged) rmSync(staged, { recursive: true, force: true });
}
