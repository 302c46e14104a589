/**
 * Streaming parser for WebAssembly core modules (version 1) and components (version 0x0d, layer 1).
 * It pulls the input chunk by chunk: small sections are buffered one at a time, function bodies one at a
 * time, data segment payloads and unknown custom sections are skipped without being kept, and nested
 * modules of a component are parsed straight from the enclosing stream.
 *
 * This file is the entry point: it reads the header, hands the rest to the core module reader
 * (`module/`) or the component reader (`component/`), kept apart as wasmparser keeps them, and
 * cross-checks core modules with the engine. The readers share only the section framing (`section.ts`)
 * and the custom sections (`custom.ts`); a component's core module types reuse the module's type readers.
 */
import { FlightDeckError } from '../errors.js';
import type { WasmReport } from './schema.js';
import { StreamReader, WasmFormatError, malformed } from './reader.js';
import { CROSS_CHECK_OFF_NOTE } from './notes.js';
import { engineAccepts, engineName, engineRejects, engineWorker, type EngineCheck } from './engine.js';
import { parseModule } from './module/parse.js';
import { parseComponent } from './component/parse.js';

export { CODE_BUFFER_MAX } from './module/code.js';
export { CROSS_CHECK_OFF_NOTE } from './notes.js';

export interface ParseOptions {
  /** Names the input in errors (a path, `bundle.tar.gz!app.wasm`, ...). */
  name: string;
  /** Byte size of the input when known: lets a section that claims more be rejected up front. */
  size?: number;
  /**
   * Cross-check core modules with WebAssembly.validate (default true). Off, the report says so
   * (`validation.note` is CROSS_CHECK_OFF_NOTE): the decoder's own checks still ran on every instruction.
   */
  crossCheck?: boolean;
  /**
   * The engine's cross-check of these same bytes, already under way (core/wasm/target.ts reads a big file
   * into shared memory and a worker validates it while this decodes); the caller cancels it.
   */
  verdict?: EngineCheck | undefined;
}

/** Modules larger than this are not buffered for the engine cross-check. */
const CROSS_CHECK_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Modules of at least this declared size are read whole first and, when cross-checked, validated by the
 * engine in a worker thread while the decoder runs (a 45 MB module: ~140 ms of validation off the critical
 * path); smaller ones are validated inline after decoding (a worker's start-up would cost more than it
 * saves). A big module file is read whole even without the cross-check (core/wasm/target.ts): one read into
 * one buffer, decoded in place, is faster than streaming it in chunks.
 */
export const PARALLEL_CHECK_MIN_BYTES = 8 * 1024 * 1024;

/** Parse one module or component from a byte stream. Bad bytes become WASM_MALFORMED with the offset. */
export async function parseWasm(source: AsyncIterable<Uint8Array>, opts: ParseOptions): Promise<WasmReport> {
  // A verdict started here is cancelled here; one the caller passed in is the caller's.
  let verdict: EngineCheck | undefined;
  let owned: EngineCheck | undefined;
  if (opts.verdict && opts.crossCheck !== false) {
    verdict = opts.verdict;
  } else if (opts.crossCheck !== false && opts.size !== undefined && readsWhole(opts.size)) {
    const whole = await readWhole(source, opts.size);
    source = whole.source;
    if (whole.bytes) verdict = owned = engineWorker().check(whole.bytes);
  }
  const reader = new StreamReader(source);
  try {
    return await parseBinary(reader, opts, opts.size, undefined, verdict?.result);
  } catch (err) {
    if (err instanceof WasmFormatError) throw malformed(opts.name, err);
    if (err instanceof FlightDeckError) throw err;
    throw new FlightDeckError('WASM_MALFORMED', `${opts.name}: cannot be read: ${(err as Error).message}`, { cause: err, details: { input: opts.name } });
  } finally {
    owned?.cancel();
  }
}

/**
 * Whether a module of `size` bytes is read whole before it is decoded (and, when cross-checked, validated
 * by the engine in a worker meanwhile).
 */
export function readsWhole(size: number): boolean {
  return size >= PARALLEL_CHECK_MIN_BYTES && size <= CROSS_CHECK_MAX_BYTES;
}

/**
 * The whole input in one buffer when it is exactly `size` bytes (and the source ends cleanly), for the
 * worker's cross-check: a SharedArrayBuffer, so the worker reads the same memory (no 45 MB clone); the
 * returned source replays the same bytes (or, when the input is not `size` bytes or fails, replays what
 * was read and then the rest, so the parser reports it as before).
 */
async function readWhole(source: AsyncIterable<Uint8Array>, size: number): Promise<{ bytes?: Uint8Array; source: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const whole = new Uint8Array(new SharedArrayBuffer(size));
  const parts: Uint8Array[] = [];
  let total = 0;
  let failure: { err: unknown } | undefined;
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      parts.push(next.value);
      if (total + next.value.length <= size) whole.set(next.value, total);
      total += next.value.length;
      if (total > size) break;
    }
  } catch (err) {
    failure = { err };
  }
  const exact = !failure && total === size;
  if (exact) parts.length = 0;
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (exact) {
      yield whole;
      return;
    }
    yield* parts;
    if (failure) throw failure.err;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  return { ...(exact ? { bytes: whole } : {}), source: replay() };
}

async function parseBinary(
  r: StreamReader,
  opts: ParseOptions,
  size: number | undefined,
  expect: 'module' | 'component' | undefined,
  verdict?: Promise<string | undefined>,
): Promise<WasmReport> {
  const start = r.offset;
  const crossCheck = opts.crossCheck !== false && expect !== 'component' && (size === undefined || size <= CROSS_CHECK_MAX_BYTES);
  // With a verdict on the way (a worker checks the whole input), no copy of the bytes is kept here.
  if (crossCheck && !verdict) r.startTee(CROSS_CHECK_MAX_BYTES, size);
  const head = await r.cursor(8, 'the WASM header');
  if (head.u8() !== 0x00 || head.u8() !== 0x61 || head.u8() !== 0x73 || head.u8() !== 0x6d) head.fail('wrong magic number (not a WASM binary)', start);
  const version = head.bytes[4]! | (head.bytes[5]! << 8);
  const layer = head.bytes[6]! | (head.bytes[7]! << 8);
  let report: WasmReport;
  if (version === 1 && layer === 0 && expect !== 'component') {
    report = await parseModule(r, size === undefined ? undefined : start + size);
  } else if (version === 0x0d && layer === 1 && expect !== 'module') {
    r.stopTee();
    report = await parseComponent(r, opts.name, size === undefined ? undefined : start + size, (sub, name, n, kind) =>
      parseBinary(sub, { ...opts, name }, n, kind),
    );
  } else {
    const what = expect === 'module' ? ' for a core module' : expect === 'component' ? ' for a component' : '';
    return head.fail(`unsupported version 0x${version.toString(16)} layer ${layer}${what}`, start + 4);
  }
  report.size = r.offset - start;
  if (report.kind === 'module') {
    const bytes = r.stopTee();
    await crossCheckModule(report, bytes, opts, crossCheck, start, verdict);
  }
  return report;
}

/**
 * `start` is the module's absolute offset (non-zero when nested), so the engine's offset can be shifted.
 * `verdict`: the engine's answer for the whole input, computed in a worker (instead of `bytes`).
 */
async function crossCheckModule(
  rep: WasmReport,
  bytes: Uint8Array | undefined,
  opts: ParseOptions,
  wanted: boolean,
  start: number,
  verdict?: Promise<string | undefined>,
): Promise<void> {
  if (!wanted) {
    rep.validation.note = opts.crossCheck === false ? CROSS_CHECK_OFF_NOTE : `larger than ${CROSS_CHECK_MAX_BYTES} bytes`;
    return;
  }
  if (!bytes && !verdict) {
    rep.validation.note = `larger than ${CROSS_CHECK_MAX_BYTES} bytes`;
    return;
  }
  const missing: string[] = rep.features.filter((f) => !engineAccepts(f));
  if (rep.memories.some((m) => m.pageSize !== 65536)) missing.push('custom-page-sizes');
  if (missing.length > 0) {
    rep.validation.note = `${engineName()} does not support ${missing.join(', ')}`;
    return;
  }
  rep.validation.checked = true;
  const reason = verdict ? await verdict : engineRejects(bytes!);
  rep.validation.valid = reason === undefined;
  if (reason !== undefined) {
    const offset = start + Number(/@\+(\d+)/.exec(reason)?.[1] ?? 0);
    throw new FlightDeckError('WASM_MALFORMED', `${opts.name}: ${engineName()} rejects the module: ${reason} (byte offset ${offset}).`, {
      details: { input: opts.name, offset, reason },
    });
  }
}
