import { ApiError, createClient, webHostTransport, ipcTransport, type ApiClient, type PreloadBridge } from '../../../core/api/client.js';
import type { ErrorPayload } from '../../../core/errors.js';

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

/**
 * The desktop shell's file dialog (main's own title and filters for a payload or a kit): the chosen file's
 * absolute path, or null when cancelled. Absent in a browser, where the picker uploads the file instead.
 */
export const openFile: ((kind: 'payload' | 'kit') => Promise<string | null>) | undefined = window.flightdeck?.openFile
  ? async (kind) => {
      const answer = (await window.flightdeck!.openFile!(kind)) as { ok?: boolean; value?: { path?: unknown }; error?: ErrorPayload };
      if (!answer?.ok)
        throw new ApiError(
          answer?.error ?? { code: 'INTERNAL', message: 'The file dialog gave no answer.', hint: 'Type the file’s path in the field instead.' },
        );
      return typeof answer.value?.path === 'string' ? answer.value.path : null;
    }
  : undefined;
