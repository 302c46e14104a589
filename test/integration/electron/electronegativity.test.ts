import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';

// @doyensec/electronegativity over the real shell sources (electron/ + the CSP of renderer/index.html).
interface Report {
  checks: number;
  errors: Array<{ file: string; message: string }>;
  issues: Array<{ id: string; severity: string; confidence: string; file: string; line: number }>;
}

function scan(args: string[] = []): Report {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'fd-eneg-out-')), 'report.json');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'electronegativity.mjs'), ...args, '--output', out], { cwd: ROOT, stdio: 'pipe' });
  return JSON.parse(readFileSync(out, 'utf8')) as Report;
}

describe('electronegativity', () => {
  it('reports no high or medium finding for the Electron shell, and parsed every file', () => {
    const report = scan();
    expect(report.checks).toBeGreaterThan(30);
    expect(report.errors).toEqual([]);
    const serious = report.issues.filter((i) => i.severity === 'HIGH' || i.severity === 'MEDIUM');
    expect(serious).toEqual([]);
    // It did read main.ts and the page's CSP (their low, informational findings name them).
    expect(report.issues.map((i) => i.file)).toEqual(expect.arrayContaining([path.join('electron', 'main', 'main.ts'), path.join('renderer', 'index.html')]));
  }, 120_000);

  it('is not vacuous: an insecure window is reported as high', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-eneg-bad-'));
    writeFileSync(
      path.join(dir, 'main.js'),
      "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { contextIsolation: false, nodeIntegration: true, sandbox: false } });\n",
    );
    const report = scan(['--input', dir]);
    expect(report.issues.length).toBeGreaterThan(0);
    const high = report.issues.filter((i) => i.severity === 'HIGH').map((i) => i.id);
    // Context isolation off, and no will-navigate / setWindowOpenHandler lock (which main.ts has).
    expect(high).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK']));
  }, 120_000);
});
