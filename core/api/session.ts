/**
 * The host side of the call protocol (core/api/protocol.ts), shared by the web host's WebSocket and
 * Electron's api worker: every call goes through `dispatch` (same validation, same redaction), runs with
 * its own AbortSignal, streams its events, and ends with one result frame. Frames come from a possibly
 * compromised page, so each one is validated and the number of concurrent calls is capped.
 */
import { dispatch, type Handlers } from './dispatch.js';
import { ClientFrameSchema, type CallFrame } from './protocol.js';
import { FlightDeckError } from '../errors.js';
import { redactValue } from '../credentials/redact.js';

export interface CallSession {
  /** Handle one frame from the caller (already JSON-parsed). */
  receive(frame: unknown): void;
  /** The caller went away: cancel everything still running and send nothing more. */
  close(): void;
  /** Calls still running. */
  readonly active: number;
}

export interface CallSessionOptions {
  /** Most calls one caller may run at once; more are refused with INVALID_INPUT. */
  maxConcurrent?: number;
  /** Most events per second per call; more are dropped (a progress bar needs no more). */
  maxEventsPerSecond?: number;
}

export function createCallSession(handlers: Handlers, send: (frame: CallFrame) => void, opts: CallSessionOptions = {}): CallSession {
  const running = new Map<number, AbortController>();
  const maxConcurrent = opts.maxConcurrent ?? 16;
  const maxEvents = opts.maxEventsPerSecond ?? 50;
  let closed = false;

  const refuse = (id: number, message: string) =>
    send({ t: 'result', id, envelope: { ok: false, error: new FlightDeckError('INVALID_INPUT', message).toJSON() } });

  async function call(id: number, method: string, input: unknown): Promise<void> {
    const controller = new AbortController();
    running.set(id, controller);
    let windowStart = 0;
    let inWindow = 0;
    const emit = (event: { type: string; [k: string]: unknown }) => {
      if (closed || controller.signal.aborted) return;
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        inWindow = 0;
      }
      if (++inWindow > maxEvents) return;
      send({ t: 'event', id, event: redactValue(event) });
    };
    try {
      const envelope = await dispatch(handlers, method, input, { signal: controller.signal, emit });
      if (!closed) send({ t: 'result', id, envelope });
    } finally {
      running.delete(id);
    }
  }

  return {
    receive(raw) {
      if (closed) return;
      const parsed = ClientFrameSchema.safeParse(raw);
      if (!parsed.success) {
        const id = (raw as { id?: unknown } | null)?.id;
        if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) refuse(id, 'Malformed api frame.');
        return;
      }
      const frame = parsed.data;
      if (frame.t === 'cancel') {
        running.get(frame.id)?.abort();
        return;
      }
      if (running.has(frame.id)) return refuse(frame.id, `Call id ${frame.id} is already running.`);
      if (running.size >= maxConcurrent) return refuse(frame.id, `Too many calls at once (${maxConcurrent}).`);
      void call(frame.id, frame.method, frame.input);
    },
    close() {
      closed = true;
      for (const c of running.values()) c.abort();
      running.clear();
    },
    get active() {
      return running.size;
    },
  };
}
