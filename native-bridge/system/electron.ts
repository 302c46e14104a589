import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export interface ElectronBinary {
  /** Absolute path of the Electron executable, when it is installed. */
  executable: string | undefined;
  /** Why there is none. */
  reason: string | undefined;
}

/**
 * Find the Electron binary without `require('electron')`, which would try to download it. The electron
 * package records the executable in path.txt after its install script ran.
 */
export function findElectronBinary(env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { executable: undefined, reason: 'the electron package is not installed' };
  }
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(pkgDir, 'dist');
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!env.ELECTRON_OVERRIDE_DIST_PATH && !existsSync(pathFile)) {
    return { executable: undefined, reason: 'the Electron binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD)' };
  }
  const rel = env.ELECTRON_OVERRIDE_DIST_PATH ? 'electron' : readFileSync(pathFile, 'utf8').trim();
  const executable = path.join(distDir, rel);
  return existsSync(executable) ? { executable, reason: undefined } : { executable: undefined, reason: `${executable} does not exist` };
}

/** A display the Electron window can open on. */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform === 'win32' || platform === 'darwin') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
