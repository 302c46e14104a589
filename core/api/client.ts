/**
 * The api client the renderer (and any other front end) uses. Browser-safe: no Node built-ins.
 * A transport moves one call: it delivers the call's events to `onEvent`, honours `signal` (cancel), and
 * resolves with the envelope; the client validates what comes back against the contract.
 */
import { contract, EnvelopeSchema, eventSchema, type Envelope, type EventOf, type Input, type Method, type Output } from './contract.js';
import type { ErrorPayload } from '../errors.js';
import { HostFrameSchema, WS_PATH, WS_PROTOCOL, WS_TOKEN_PREFIX, type ApiEvent, type ClientFrame } from './protocol.js';

export type { ApiEvent } from './protocol.js';

export interface CallOptions<M extends Method = Method> {
  /** Abort to cancel the call; it then rejects with ApiError ABORTED. */
  signal?: AbortSignal;
  /** Progress and other events of a long call, as the contract declares them for M. */
  onEvent?: (event: EventOf<M>) => void;
}

export type Transport = (method: Method, input: unknown, opts?: CallOptions) => Promise<unknown>;

/** An error returned by the api, carrying its stable code and hint. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorPayload['code'];
  readonly hint: string;
  /** Structured, secret-free details (e.g. `field`: the field of a form the error is about). */
  readonly details: Record<string, unknown> | undefined;
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.code = payload.code;
    this.hint = payload.hint;
    this.details = payload.details;
  }
}

export interface ApiClient {
  call<M extends Method>(method: M, input: Input<M>, opts?: CallOptions<NoInfer<M>>): Promise<Output<M>>;
}

export function createClient(transport: Transport): ApiClient {
  return {
    async call(method, input, opts = {}) {
      if (opts.signal?.aborted) throw new ApiError(aborted().error);
      // Events are checked against the method's declared schema like answers are: one that does not fit
      // (an app out of sync, a tampered frame) is dropped rather than handed on half-understood.
      const schema = eventSchema(method);
      const onEvent = opts.onEvent as ((e: unknown) => void) | undefined;
      const checked: CallOptions = {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(onEvent
          ? {
              onEvent: (e: ApiEvent) => {
                if (!schema) return onEvent(e);
                const parsed = schema.safeParse(e);
                if (parsed.success) onEvent(parsed.data);
              },
            }
          : {}),
      };
      const raw = await transport(method, input, checked);
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

type ErrorEnvelope = Extract<Envelope<never>, { ok: false }>;

function aborted(): ErrorEnvelope {
  return { ok: false, error: { code: 'ABORTED', message: 'The operation was cancelled.', hint: 'Start it again when you are ready.' } };
}

function lostContact(hint: string): ErrorEnvelope {
  return { ok: false, error: { code: 'INTERNAL', message: 'Lost contact with the Flight Deck api.', hint } };
}

/**
 * Calls with ids over one message channel (a WebSocket, the Electron preload): events are routed to
 * their call, a cancel frame is sent on abort and the call settles at once with ABORTED.
 */
function multiplexer(post: (frame: ClientFrame) => void) {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; onEvent?: (e: ApiEvent) => void }>();
  const failAll = (envelope: ErrorEnvelope): void => {
    for (const c of pending.values()) c.resolve(envelope);
    pending.clear();
  };
  return {
    call(method: Method, input: unknown, opts: CallOptions = {}): Promise<unknown> {
      const id = next++;
      return new Promise((resolve) => {
        const onAbort = () => {
          if (!pending.delete(id)) return;
          try {
            post({ t: 'cancel', id });
          } catch {
            // the channel is gone; nothing runs any more
          }
          resolve(aborted());
        };
        pending.set(id, {
          resolve: (v) => {
            opts.signal?.removeEventListener('abort', onAbort);
            resolve(v);
          },
          ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
        });
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          post({ t: 'call', id, method, input: input ?? {} });
        } catch {
          pending.delete(id);
          resolve(lostContact('Reload the window.'));
        }
      });
    },
    /** A frame from the host. Unknown ids (cancelled calls) are ignored. */
    receive(raw: unknown): void {
      const frame = HostFrameSchema.safeParse(raw);
      if (!frame.success) return;
      if (frame.data.t === 'worker-exit') return failAll(lostContact('The api worker stopped and restarts on the next call; try again.'));
      const call = pending.get(frame.data.id);
      if (!call) return;
      if (frame.data.t === 'event') call.onEvent?.(frame.data.event);
      else {
        pending.delete(frame.data.id);
        call.resolve(frame.data.envelope);
      }
    },
    /** The channel closed: every pending call fails. */
    fail: failAll,
  };
}

/** The subset of the browser WebSocket the transport uses (so Node tests can pass another client). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: { data?: unknown }) => void): void;
}
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

const NO_TOKEN_HINT = 'Open the URL printed by `flightdeck serve` (it carries the session token).';

/**
 * Transport for the web host started by `flightdeck serve`: one WebSocket at /api/ws, opened on the first
 * call and again after it drops. The session token is offered as a sub-protocol entry, because a browser
 * cannot set headers on a WebSocket and a token in the URL would reach logs.
 */
export function wsTransport(
  wsUrl: string,
  token: string,
  open: WebSocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike,
): Transport & { close(): void } {
  let socket: WebSocketLike | undefined;
  let ready: Promise<boolean> | undefined;
  const mux = multiplexer((frame) => {
    if (!socket || socket.readyState !== 1) throw new Error('not connected');
    socket.send(JSON.stringify(frame));
  });

  function connect(): Promise<boolean> {
    if (ready) return ready;
    ready = new Promise((resolve) => {
      const ws = open(wsUrl, [WS_PROTOCOL, WS_TOKEN_PREFIX + token]);
      socket = ws;
      let opened = false;
      ws.addEventListener('open', () => {
        opened = true;
        resolve(true);
      });
      ws.addEventListener('message', (ev) => {
        try {
          mux.receive(JSON.parse(String(ev.data)));
        } catch {
          // not JSON: ignore
        }
      });
      ws.addEventListener('close', () => {
        if (socket === ws) {
          socket = undefined;
          ready = undefined;
        }
        if (!opened) resolve(false);
        mux.fail(lostContact('Check that `flightdeck serve` is still running, then reload the page.'));
      });
    });
    return ready;
  }

  const transport = async (method: Method, input: unknown, opts: CallOptions = {}) => {
    if (!token) return { ok: false, error: { code: 'INVALID_INPUT', message: 'Missing or wrong session token.', hint: NO_TOKEN_HINT } };
    if (!(await connect())) {
      return {
        ok: false,
        error: { code: 'INVALID_INPUT', message: 'The web host refused the connection (wrong session token or origin).', hint: NO_TOKEN_HINT },
      };
    }
    if (opts.signal?.aborted) return aborted();
    return mux.call(method, input, opts);
  };
  return Object.assign(transport, { close: () => socket?.close() });
}

/** The bridge the Electron preload exposes on `window.flightdeck`. */
export interface PreloadBridge {
  /** Send one call-protocol frame (call or cancel) to main. */
  post(frame: unknown): void;
  /** Frames from main (events and results); returns an unsubscribe function. */
  onFrame(listener: (frame: unknown) => void): () => void;
  /** Show a file of Flight Deck's folders in the system file manager (desktop only). */
  reveal?(path: string): Promise<unknown>;
  /**
   * The system file dialog for a payload (.wasm, bundle) or a kit (desktop only): `{ ok, value: { path } }`,
   * path null when cancelled.
   */
  openFile?(kind: 'payload' | 'kit'): Promise<unknown>;
}

export function ipcTransport(bridge: PreloadBridge): Transport {
  const mux = multiplexer((frame) => bridge.post(frame));
  bridge.onFrame((frame) => mux.receive(frame));
  return (method, input, opts) => mux.call(method, input, opts);
}

/** The WebSocket transport of a page served by `flightdeck serve` at `origin` (http://127.0.0.1:port). */
export function webHostTransport(origin: string, token: string): Transport & { close(): void } {
  return wsTransport(origin.replace(/^http/, 'ws') + WS_PATH, token);
}
