import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

/**
 * Vitest global setup of the integration project: tests that spawn the CLI run the build in dist/.
 * `npm test` builds first; a bare `vitest run --project integration` builds here when dist/ is missing.
 */
export default function setup(): void {
  if (existsSync(path.join(ROOT, 'dist', 'cli', 'bin.js')) && existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed; integration tests need dist/');
}
