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
import { engineAccepts, engineName, engineRejects } from './engine.js';
import { parseModule } from './module/parse.js';
import { parseComponent } from './component/parse.js';

export { CODE_BUFFER_MAX } from './module/code.js';

export interface ParseOptions {
  /** Names the input in errors (a path, `bundle.tar.gz!app.wasm`, ...). */
  name: string;
  /** Byte size of the input when known: lets a section that claims more be rejected up front. */
  size?: number;
  /** Cross-check core modules with WebAssembly.validate (default true). */
  crossCheck?: boolean;
}

/** Modules larger than this are not buffered for the engine cross-check. */
const CROSS_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/** Parse one module or component from a byte stream. Bad bytes become WASM_MALFORMED with the offset. */
export async function parseWasm(source: AsyncIterable<Uint8Array>, opts: ParseOptions): Promise<WasmReport> {
  const reader = new StreamReader(source);
  try {
    return await parseBinary(reader, opts, opts.size, undefined);
  } catch (err) {
    if (err instanceof WasmFormatError) throw malformed(opts.name, err);
    if (err instanceof FlightDeckError) throw err;
    throw new FlightDeckError('WASM_MALFORMED', `${opts.name}: cannot be read: ${(err as Error).message}`, { cause: err, details: { input: opts.name } });
  }
}

async function parseBinary(r: StreamReader, opts: ParseOptions, size: number | undefined, expect: 'module' | 'component' | undefined): Promise<WasmReport> {
  const start = r.offset;
  const crossCheck = opts.crossCheck !== false && expect !== 'component' && (size === undefined || size <= CROSS_CHECK_MAX_BYTES);
  if (crossCheck) r.startTee(CROSS_CHECK_MAX_BYTES);
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
    crossCheckModule(report, bytes, opts, crossCheck, start);
  }
  return report;
}

/** `start` is the module's absolute offset (non-zero when nested), so the engine's offset can be shifted. */
function crossCheckModule(rep: WasmReport, bytes: Uint8Array | undefined, opts: ParseOptions, wanted: boolean, start: number): void {
  if (!wanted) {
    rep.validation.note = opts.crossCheck === false ? 'cross-check disabled' : `larger than ${CROSS_CHECK_MAX_BYTES} bytes`;
    return;
  }
  if (!bytes) {
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
  const reason = engineRejects(bytes);
  rep.validation.valid = reason === undefined;
  if (reason !== undefined) {
    const offset = start + Number(/@\+(\d+)/.exec(reason)?.[1] ?? 0);
    throw new FlightDeckError('WASM_MALFORMED', `${opts.name}: ${engineName()} rejects the module: ${reason} (byte offset ${offset}).`, {
      details: { input: opts.name, offset, reason },
    });
  }
}
