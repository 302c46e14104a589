import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WebHostFixture {
  /** The URL `flightdeck serve` printed (with its session token). */
  url: string;
  origin: string;
  home: string;
}

/** Each worker starts the real `flightdeck serve` (built dist/) with a private FLIGHTDECK_HOME. */
export const test = base.extend<object, { host: WebHostFixture }>({
  host: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-'));
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/flightdeck.js'), 'serve', '--json'], {
        cwd: ROOT,
        env: { ...process.env, FLIGHTDECK_HOME: home },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const printed = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          try {
            resolve(JSON.parse(out) as { url: string; origin: string });
          } catch {
            // incomplete
          }
        });
        child.once('exit', (code) => reject(new Error(`flightdeck serve exited with ${code}`)));
      });
      await use({ ...printed, home });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
export { ROOT };
