/**
 * Sandboxed preload: exposes exactly `window.flightdeck.{post, onFrame, reveal, openFile}` — frames of the call
 * protocol (core/api/protocol.ts) for the methods of the api contract, and "Reveal in folder". Bundled to
 * CommonJS (dist/electron/preload/preload.cjs) because sandboxed preloads cannot load ES modules or other
 * files. Main validates everything again; the worker validates inputs against the contract.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { METHODS } from '../../core/api/contract.js';
import { IPC_CALL, IPC_FRAME, IPC_OPEN_FILE, IPC_REVEAL } from '../main/security.js';

const allowed = new Set<string>(METHODS);
const listeners = new Set<(frame: unknown) => void>();

ipcRenderer.on(IPC_FRAME, (_event, frame: unknown) => {
  for (const l of listeners) l(frame);
});

contextBridge.exposeInMainWorld('flightdeck', {
  post(frame: unknown): void {
    const f = frame as { t?: unknown; method?: unknown } | null;
    if (!f || (f.t === 'call' && (typeof f.method !== 'string' || !allowed.has(f.method)))) {
      throw new Error('Unknown api method.');
    }
    ipcRenderer.send(IPC_CALL, frame);
  },
  onFrame(listener: (frame: unknown) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  reveal(path: string): Promise<unknown> {
    return ipcRenderer.invoke(IPC_REVEAL, path);
  },
  openFile(kind: 'payload' | 'kit'): Promise<unknown> {
    return ipcRenderer.invoke(IPC_OPEN_FILE, { kind });
  },
});
