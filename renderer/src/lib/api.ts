import { createClient, webHostTransport, ipcTransport, type ApiClient, type PreloadBridge } from '../../../core/api/client.js';

declare global {
  interface Window {
    /** Exposed by the Electron preload (contextBridge). Absent in a browser. */
    flightdeck?: PreloadBridge;
  }
}

const TOKEN_KEY = 'flightdeck.token';

/** The session token of the web host, taken from the URL fragment once and kept for this tab only. */
function webToken(): string {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, match[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/**
 * The api client: Electron IPC when running in the desktop shell, the WebSocket of `flightdeck serve`
 * otherwise. Both carry progress events and cancellation.
 */
export const api: ApiClient = createClient(window.flightdeck ? ipcTransport(window.flightdeck) : webHostTransport(window.location.origin, webToken()));

/** "Reveal in folder" exists only in the desktop shell. */
export const reveal: ((path: string) => Promise<unknown>) | undefined = window.flightdeck?.reveal?.bind(window.flightdeck);

export const shell: 'desktop' | 'browser' = window.flightdeck ? 'desktop' : 'browser';
