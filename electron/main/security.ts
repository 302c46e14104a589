/**
 * Pure pieces of the Electron security setup, kept free of the electron import so they are unit-tested
 * in plain Node (test/unit/electron/main/security.test.ts).
 */

/** The renderer is served from this custom scheme (no file://, no http). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://flightdeck`;
/** Renderer → main: one call-protocol frame (call or cancel, core/api/protocol.ts). */
export const IPC_CALL = 'flightdeck:call';
/** Main → renderer: one host frame (event or result). */
export const IPC_FRAME = 'flightdeck:frame';
/** Renderer → main (invoke): show a file of Flight Deck's folders in the system file manager. */
export const IPC_REVEAL = 'flightdeck:reveal';
/** Renderer → main (invoke): choose a local file (a .wasm, a bundle, a kit) in the system file dialog. */
export const IPC_OPEN_FILE = 'flightdeck:open-file';

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

/** Links the app may open in the user's browser: our documentation only, never what a page asks for. */
export const EXTERNAL_PREFIXES = ['https://github.com/flightdeck-dev/flightdeck/'] as const;

export function isExternalAllowed(url: unknown): url is string {
  if (typeof url !== 'string') return false;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.username && !u.password && EXTERNAL_PREFIXES.some((p) => u.href.startsWith(p));
  } catch {
    return false;
  }
}

/** main.ts spells these out literally, so auditors and electronegativity see them; a unit test keeps both equal. */
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
  /** Middle-click would open links in a new window. */
  disableBlinkFeatures: 'Auxclick',
  webviewTag: false,
  spellcheck: false,
} as const;

/**
 * "Reveal in folder" only for absolute paths inside Flight Deck's own folders (content store, cache,
 * config, logs): a compromised page must not make main open arbitrary places. Pure string logic; `sep`
 * and case folding follow the OS.
 */
export function isRevealAllowed(target: unknown, roots: string[], sep = '/', caseInsensitive = false): target is string {
  if (typeof target !== 'string' || target.length === 0 || target.length > 4096 || target.includes('\0')) return false;
  const norm = (p: string) => (caseInsensitive ? p.toLowerCase() : p);
  const abs = sep === '/' ? target.startsWith('/') : /^[A-Za-z]:\\/.test(target);
  if (!abs) return false;
  if (target.split(/[\\/]/).some((seg) => seg === '..')) return false;
  return roots.some((root) => {
    const r = norm(root.replace(/[\\/]+$/, ''));
    const t = norm(target);
    return t === r || t.startsWith(r + sep);
  });
}

/**
 * The folder the api worker runs in, so relative paths (the demo kit's `oci:assets/demo-kit:...`) resolve
 * against the app, not the folder it was started from (`/` when macOS launches an app from Finder).
 * Packaged, the app is `resources/app.asar` and the files kept out of the archive (asarUnpack: native
 * modules, the demo kit) are in its `app.asar.unpacked` twin; from sources it is the repository.
 */
export function appBaseDir(appPath: string, isPackaged: boolean): string {
  return isPackaged && appPath.endsWith('.asar') ? `${appPath}.unpacked` : appPath;
}

/** What the renderer may ask the file dialog for: a payload (a .wasm or a bundle) or a kit. */
export type OpenFileKind = 'payload' | 'kit';

/**
 * The file dialog's options for a request from the renderer: only `{ kind: 'payload' | 'kit' }` is
 * accepted (anything else: undefined, and main refuses); the title, filters and properties are main's own,
 * never the page's, so a page cannot open a folder picker, a save dialog or name a default path.
 */
export function openFileDialogOptions(
  request: unknown,
): { title: string; properties: ['openFile']; filters: { name: string; extensions: string[] }[] } | undefined {
  if (!request || typeof request !== 'object' || Array.isArray(request)) return undefined;
  const keys = Object.keys(request);
  const kind = (request as { kind?: unknown }).kind;
  if (keys.length !== 1 || (kind !== 'payload' && kind !== 'kit')) return undefined;
  const filters =
    kind === 'kit' ? [{ name: 'Offline kits (.tar)', extensions: ['tar'] }] : [{ name: 'WASM modules and bundles', extensions: ['wasm', 'gz', 'tgz'] }];
  return {
    title: kind === 'kit' ? 'Choose an offline kit' : 'Choose a .wasm module or a bundle',
    properties: ['openFile'],
    filters: [...filters, { name: 'All files', extensions: ['*'] }],
  };
}

/** The dialog's answer as the renderer gets it: one absolute path, or null when cancelled (or odd). */
export function openFileResult(result: { canceled: boolean; filePaths: unknown }, sep = '/'): string | null {
  if (result.canceled || !Array.isArray(result.filePaths) || result.filePaths.length !== 1) return null;
  const file: unknown = result.filePaths[0];
  if (typeof file !== 'string' || file.length === 0 || file.length > 4096 || file.includes('\0')) return null;
  const abs = sep === '/' ? file.startsWith('/') : /^[A-Za-z]:\\/.test(file) || file.startsWith('\\\\');
  return abs ? file : null;
}
