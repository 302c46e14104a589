/**
 * Electron main process: the secure desktop shell around the same renderer `flightdeck serve` hosts.
 * Follows the Electron security checklist: context isolation, sandbox, no node integration, strict CSP,
 * custom app:// scheme (no file://, no remote content), navigation and window.open locked down,
 * permission requests denied, IPC validated (sender frame + frame schema + contract schema), envelopes
 * without stacks. The api itself runs in a utility process (api-worker.ts) so long work never freezes
 * the window. One instance; window bounds kept; native menu; "Reveal in folder".
 */
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  ipcMain,
  net,
  protocol,
  screen,
  session,
  shell,
  utilityProcess,
  webContents,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type UtilityProcess,
  type WebContents,
} from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ClientFrameSchema, type HostFrame } from '../../core/api/protocol.js';
import { resolvePaths } from '../../core/config/paths.js';
import { writeFileAtomic } from '../../core/fs/atomic.js';
import { FlightDeckError } from '../../core/errors.js';
import {
  APP_ORIGIN,
  APP_SCHEME,
  appBaseDir,
  CSP,
  IPC_CALL,
  IPC_FRAME,
  IPC_OPEN_FILE,
  IPC_REVEAL,
  isExternalAllowed,
  isRevealAllowed,
  isTrustedUrl,
  openFileDialogOptions,
  openFileResult,
  resolveAppFile,
} from './security.js';
import { DOCS_URL, menuTemplate } from './menu.js';
import { restoreWindowState, type WindowState } from './window-state.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererRoot = path.resolve(here, '../../renderer');
const preloadPath = path.resolve(here, '../preload/preload.cjs');
const workerPath = path.join(here, 'api-worker.js');
const paths = resolvePaths();
const stateFile = path.join(paths.config, 'window-state.json');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

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

/** Only the top frame of our own page may talk to main. */
function trusted(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return Boolean(frame) && isTrustedUrl(frame?.url) && frame?.parent === null;
}

/** The api worker, restarted on demand if it dies; its replies are routed to the renderer that asked. */
function apiWorker() {
  let worker: UtilityProcess | undefined;
  const clients = new Set<number>();
  const get = (): UtilityProcess => {
    if (worker) return worker;
    // cwd: relative paths (oci:assets/demo-kit:...) resolve against the app, not where it was launched from.
    const w = utilityProcess.fork(workerPath, [], { serviceName: 'Flight Deck api', stdio: 'inherit', cwd: appBaseDir(app.getAppPath(), app.isPackaged) });
    w.on('message', (msg: WorkerReply) => {
      const wc = webContents.fromId(msg.client);
      if (wc && !wc.isDestroyed()) wc.send(IPC_FRAME, msg.frame);
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      // Calls that were running there will never answer: tell each renderer its calls failed.
      for (const id of clients) webContents.fromId(id)?.send(IPC_FRAME, { t: 'worker-exit' } satisfies HostFrame);
    });
    worker = w;
    return w;
  };
  return {
    post(wc: WebContents, req: WorkerRequest) {
      if (!clients.has(wc.id)) {
        clients.add(wc.id);
        wc.once('destroyed', () => {
          clients.delete(wc.id);
          worker?.postMessage({ kind: 'close', client: wc.id } satisfies WorkerRequest);
        });
      }
      get().postMessage(req);
    },
  };
}

async function loadWindowState(): Promise<ReturnType<typeof restoreWindowState>> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(stateFile, 'utf8'));
  } catch {
    saved = undefined;
  }
  return restoreWindowState(
    saved,
    screen.getAllDisplays().map((d) => d.workArea),
  );
}

function keepWindowState(win: BrowserWindow): void {
  let timer: NodeJS.Timeout | undefined;
  const save = () => {
    if (win.isDestroyed()) return;
    const state: WindowState = { ...win.getNormalBounds(), maximized: win.isMaximized() };
    void writeFileAtomic(stateFile, JSON.stringify(state)).catch(() => {});
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', () => {
    clearTimeout(timer);
    save();
  });
}

async function start(): Promise<void> {
  const worker = apiWorker();

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
    contents.on('will-redirect', (event, url) => {
      if (!isTrustedUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Our documentation opens in the user's browser; nothing opens inside the app.
      if (isExternalAllowed(url)) void shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK reviewed since only allow listed documentation URLs pass
      return { action: 'deny' };
    });
  });

  // Calls: validate the sender and the frame's shape here; the worker validates the input against the contract.
  ipcMain.on(IPC_CALL, (event, raw: unknown) => {
    if (!trusted(event)) return;
    const frame = ClientFrameSchema.safeParse(raw);
    if (!frame.success) return;
    worker.post(event.sender, { kind: 'frame', client: event.sender.id, frame: frame.data });
  });

  ipcMain.handle(IPC_REVEAL, (event, target: unknown) => {
    if (!trusted(event)) return { ok: false, error: new FlightDeckError('INVALID_INPUT', 'IPC from an untrusted frame was refused.').toJSON() };
    const roots = [paths.data, paths.cache, paths.config, paths.log, app.getPath('downloads')];
    if (!isRevealAllowed(target, roots, path.sep, process.platform !== 'linux')) {
      return { ok: false, error: new FlightDeckError('INVALID_INPUT', 'Only files in Flight Deck’s folders can be revealed.').toJSON() };
    }
    shell.showItemInFolder(target);
    return { ok: true, value: { revealed: target } };
  });

  // "Choose a file…" of the source picker: main's own dialog options for the kind asked (openFileDialogOptions);
  // the answer is one absolute path or null, which the page then hands to check, deploy or the kit methods.
  ipcMain.handle(IPC_OPEN_FILE, async (event, request: unknown) => {
    if (!trusted(event)) return { ok: false, error: new FlightDeckError('INVALID_INPUT', 'IPC from an untrusted frame was refused.').toJSON() };
    const options = openFileDialogOptions(request);
    if (!options) return { ok: false, error: new FlightDeckError('INVALID_INPUT', 'A file dialog for a payload or a kit only.').toJSON() };
    const owner = BrowserWindow.fromWebContents(event.sender);
    const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
    return { ok: true, value: { path: openFileResult(result, path.sep) } };
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(process.platform, {
        revealData: () => void shell.openPath(paths.data),
        openDocs: () => void shell.openExternal(DOCS_URL), // eng-disable OPEN_EXTERNAL_JS_CHECK reviewed since a constant URL
      }),
    ),
  );

  const state = await loadWindowState();
  const win = new BrowserWindow({
    ...state,
    minWidth: 960,
    minHeight: 600,
    title: 'Flight Deck',
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      enableBlinkFeatures: '',
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
      spellcheck: false,
      preload: preloadPath, // eng-disable PRELOAD_JS_CHECK reviewed since the sandboxed preload exposes only post, onFrame, reveal and openFile
    },
  });
  if (state.maximized) win.maximize();
  keepWindowState(win);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
}
