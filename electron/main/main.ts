/**
 * Electron main process: the secure desktop shell around the same renderer `flightdeck serve` hosts.
 * Follows the Electron security checklist: context isolation, sandbox, no node integration, strict CSP,
 * custom app:// scheme (no file://, no remote content), navigation and window.open locked down,
 * permission requests denied, IPC validated (sender frame + contract schema), envelopes without stacks.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dispatch } from '../../core/api/dispatch.js';
import { createHandlers } from '../../core/api/service.js';
import { FlightDeckError } from '../../core/errors.js';
import { nativeProbes } from '../../native-bridge/probes.js';
import { openSecretStore } from '../../native-bridge/keychain/index.js';
import { deployPorts } from '../../native-bridge/transports.js';
import { APP_ORIGIN, APP_SCHEME, CSP, IPC_CHANNEL, SECURE_WEB_PREFERENCES, isTrustedUrl, resolveAppFile } from './security.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererRoot = path.resolve(here, '../../renderer');
const preloadPath = path.resolve(here, '../preload/preload.cjs');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.enableSandbox();
  void app.whenReady().then(start);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

function start(): void {
  const handlers = createHandlers({ probes: nativeProbes, openSecretStore: () => openSecretStore(), deploy: deployPorts });

  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(request.url, rendererRoot, path.sep);
    if (!file) return new Response('Not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });

  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isTrustedUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Documentation links open in the user's browser; nothing opens inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  ipcMain.handle(IPC_CHANNEL, async (event, method: unknown, input: unknown) => {
    const frameUrl = event.senderFrame?.url;
    if (!isTrustedUrl(frameUrl) || event.senderFrame?.parent !== null) {
      return { ok: false, error: new FlightDeckError('INVALID_INPUT', 'IPC from an untrusted frame was refused.').toJSON() };
    }
    return dispatch(handlers, method, input);
  });

  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    title: 'Flight Deck',
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
}
