/**
 * The api client the renderer (and any other front end) uses. Browser-safe: no Node built-ins.
 * A transport moves one envelope; the client validates what comes back against the contract.
 */
import { contract, EnvelopeSchema, type Input, type Method, type Output } from './contract.js';
import type { ErrorPayload } from '../errors.js';

export type Transport = (method: Method, input: unknown) => Promise<unknown>;

/** An error returned by the api, carrying its stable code and hint. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorPayload['code'];
  readonly hint: string;
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.code = payload.code;
    this.hint = payload.hint;
  }
}

export interface ApiClient {
  call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>;
}

export function createClient(transport: Transport): ApiClient {
  return {
    async call(method, input) {
      const raw = await transport(method, input);
      const envelope = EnvelopeSchema.safeParse(raw);
      if (!envelope.success) {
        throw new ApiError({
          code: 'INTERNAL',
          message: `The app answered "${method}" with a malformed envelope.`,
          hint: 'Restart Flight Deck; if it persists, report it.',
        });
      }
      if (!envelope.data.ok) throw new ApiError(envelope.data.error);
      return contract[method].output.parse(envelope.data.value) as Output<typeof method>;
    },
  };
}

/** Transport for the web host started by `flightdeck serve`: POST /api/<method> with a session token. */
export function httpTransport(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): Transport {
  return async (method, input) => {
    let res: Response;
    try {
      res = await fetchImpl(new URL(`/api/${method}`, baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-flightdeck-token': token },
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      return {
        ok: false,
        error: {
          code: 'INTERNAL',
          message: 'Lost contact with the Flight Deck web host.',
          hint: 'Check that `flightdeck serve` is still running, then reload the page.',
        },
      };
    }
    return res.json();
  };
}

/** The bridge the Electron preload exposes on `window.flightdeck`. */
export interface PreloadBridge {
  invoke(method: string, input: unknown): Promise<unknown>;
}

export function ipcTransport(bridge: PreloadBridge): Transport {
  return (method, input) => bridge.invoke(method, input);
}
