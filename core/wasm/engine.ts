/**
 * What the JS engine running Flight Deck can validate. Each gated feature is probed once with a tiny
 * module that uses it (built with wat2wasm); a feature without a probe counts as unsupported, so the
 * cross-check is skipped rather than trusted for it.
 */
import { Worker } from 'node:worker_threads';
import type { Feature } from './schema.js';

const PROBES: Partial<Record<Feature, string>> = {
  threads: '0061736d010000000105016000017f030201000504010301010a0a0108004100fe1002000b',
  simd: '0061736d010000000105016000017b030201000a16011400fd0c000000000000000000000000000000000b',
  'relaxed-simd': '0061736d010000000105016000017b030201000a2b012900fd0c00000000000000000000000000000000fd0c00000000000000000000000000000000fd80020b',
  memory64: '0061736d010000000503010401',
  'multi-memory': '0061736d0100000005050200010001',
  'bulk-memory': '0061736d010000000104016000000302010005030100010a0d010b00410041004100fc0b000b',
  'reference-types': '0061736d010000000105016000016f030201000404016f00010a08010600410025000b',
  'tail-call': '0061736d01000000010401600000030201000a0601040012000b',
};
/** Part of every engine that runs Flight Deck (Node >= 20). */
const ALWAYS: ReadonlySet<Feature> = new Set(['sign-extension', 'saturating-float-to-int']);

// The global WebAssembly object of the engine (the project's lib setting, ES2023, does not declare it).
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
};

const cache = new Map<Feature, boolean>();

export function engineAccepts(feature: Feature): boolean {
  if (ALWAYS.has(feature)) return true;
  const known = cache.get(feature);
  if (known !== undefined) return known;
  const hex = PROBES[feature];
  const ok = hex !== undefined && WebAssembly.validate(Buffer.from(hex, 'hex'));
  cache.set(feature, ok);
  return ok;
}

/** undefined when the engine accepts the bytes, else its compile error (which names a byte offset, `@+N`). */
export function engineRejects(bytes: Uint8Array): string | undefined {
  if (WebAssembly.validate(bytes)) return undefined;
  try {
    new WebAssembly.Module(bytes);
    return 'validation failed';
  } catch (err) {
    return (err as Error).message;
  }
}

/** The body of the cross-check worker: engineRejects on the bytes it is sent (it boots before they exist). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (m) => {
  const bytes = m.shared ? new Uint8Array(m.shared, m.offset, m.length) : m.bytes;
  let reason = null;
  if (!WebAssembly.validate(bytes)) {
    try { new WebAssembly.Module(bytes); reason = 'validation failed'; } catch (err) { reason = String(err && err.message); }
  }
  parentPort.postMessage(reason);
});
`;

export interface EngineCheck {
  /** undefined when the engine accepts the bytes, else its compile error. */
  result: Promise<string | undefined>;
  /** Stop the worker (the decoder failed first, or the answer is no longer needed). */
  cancel: () => void;
}

/** A cross-check worker started now, before the bytes exist (its start-up overlaps reading them). */
export interface EngineWorker {
  /** Send the bytes for the worker to validate (at most once; a second call checks inline). */
  check(bytes: Uint8Array): EngineCheck;
  /** Stop the worker when no bytes will be sent. */
  cancel(): void;
}

/**
 * engineRejects on a worker thread, so a large module is validated by the engine while the decoder runs
 * on this one. Bytes in a SharedArrayBuffer are shared with the worker, others copied. When a worker
 * cannot run (or stops), the check runs here instead.
 */
export function engineWorker(): EngineWorker {
  let worker: Worker | undefined;
  let failed = false;
  let sent = false;
  let onFailure: (() => void) | undefined;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.once('error', () => {
      failed = true;
      onFailure?.();
    });
    worker.once('exit', (code) => {
      if (code !== 0) {
        failed = true;
        onFailure?.();
      }
    });
  } catch {
    failed = true;
  }
  return {
    check(bytes) {
      let cancelled = false;
      let settled = false;
      const w = worker;
      const result = new Promise<string | undefined>((done) => {
        const resolve = (reason: string | undefined) => {
          if (settled) return;
          settled = true;
          done(reason);
        };
        const inline = () => {
          if (!cancelled) resolve(engineRejects(bytes));
        };
        if (failed || sent || !w) return inline();
        sent = true;
        onFailure = inline;
        w.once('message', (reason: string | null) => resolve(reason ?? undefined));
        // Bytes in a SharedArrayBuffer are read by the worker in place; others are copied to it.
        w.postMessage(bytes.buffer instanceof SharedArrayBuffer ? { shared: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength } : { bytes });
      });
      return {
        result,
        cancel: () => {
          cancelled = true;
          void w?.terminate();
        },
      };
    },
    cancel: () => void worker?.terminate(),
  };
}

export function engineName(): string {
  return `V8 ${process.versions.v8}`;
}
