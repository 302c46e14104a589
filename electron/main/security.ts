/**
 * Pure pieces of the Electron security setup, kept free of the electron import so they are unit-tested
 * in plain Node (test/unit/electron/main/security.test.ts).
 */

/** The renderer is served from this custom scheme (no file://, no http). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://flightdeck`;
export const IPC_CHANNEL = 'flightdeck:invoke';

export { CONTENT_SECURITY_POLICY as CSP } from '../../core/security.js';

/** Only our own pages may navigate, call IPC, or be loaded. */
export function isTrustedUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'flightdeck';
  } catch {
    return false;
  }
}

/** Map an app:// URL to a file under the renderer root, or undefined when it would escape it. */
export function resolveAppFile(url: string, root: string, sep = '/'): string | undefined {
  let pathname: string;
  try {
    const u = new URL(url);
    if (!isTrustedUrl(url)) return undefined;
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const parts: string[] = [];
  for (const seg of pathname.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' || seg.includes('\\') || seg.includes('\0')) return undefined;
    parts.push(seg);
  }
  return [root.replace(/[\\/]+$/, ''), ...parts].join(sep);
}

export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  enableBlinkFeatures: '',
  webviewTag: false,
  spellcheck: false,
} as const;
