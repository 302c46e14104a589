/**
 * Sandboxed preload: exposes exactly one function, `window.flightdeck.invoke(method, input)`, for the
 * methods of the api contract. Bundled to CommonJS (dist/electron/preload/preload.cjs) because sandboxed
 * preloads cannot load ES modules or other files. Main validates everything again.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { METHODS } from '../../core/api/contract.js';
import { IPC_CHANNEL } from '../main/security.js';

const allowed = new Set<string>(METHODS);

contextBridge.exposeInMainWorld('flightdeck', {
  invoke(method: unknown, input: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !allowed.has(method)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'INVALID_INPUT', message: `Unknown api method.`, hint: 'Restart Flight Deck.' },
      });
    }
    return ipcRenderer.invoke(IPC_CHANNEL, method, input);
  },
});
