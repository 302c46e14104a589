/**
 * Streaming parser for WebAssembly core modules (version 1) and components (version 0x0d, layer 1).
 * It pulls the input chunk by chunk: small sections are buffered one at a time, function bodies one at a
 * time, data segment payloads and unknown custom sections are skipped without being kept, and nested
 * modules of a component are parsed straight from the enclosing stream.
 */
import { FlightDeckError } from '../errors.js';
import type { ExternKind, WasmReport } from '../api/contracts/wasm.js';
import { StreamReader, WasmFormatError, malformed, type Cursor } from './reader.js';
import { F, decodeBody, decodeExpr, featureBit, featureNames, valType, type DecodeState } from './code.js';
import { engineAccepts, engineName, engineRejects } from './engine.js';

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
/** Custom sections we decode (producers, target_features) are small; larger ones are skipped. */
const CUSTOM_DECODE_MAX = 1024 * 1024;

const CORE_SECTIONS = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'elem', 'code', 'data', 'datacount', 'tag'];
/** Order rank of each known core section id (custom sections may appear anywhere). */
const CORE_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };
const COMPONENT_SECTIONS = ['custom', 'core module', 'core instance', 'core type', 'component', 'instance', 'alias', 'type', 'canon', 'start', 'import', 'export', 'value'];
const CORE_KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

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

function emptyReport(kind: 'module' | 'component', version: number): WasmReport {
  return {
    kind,
    version,
    size: 0,
    sections: [],
    memories: [],
    tables: [],
    globals: [],
    imports: [],
    exports: [],
    start: null,
    functions: { imported: 0, defined: 0 },
    codeBytes: 0,
    data: { segments: 0, passive: 0, bytes: 0 },
    customSections: [],
    producers: null,
    targetFeatures: [],
    features: [],
    instructions: 0,
    threads: { uses: false, sharedMemory: false, spawn: [] },
    validation: { checked: false, valid: null, engine: engineName() },
    component: null,
    nested: [],
    notes: [],
  };
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
    report = await parseComponent(r, opts, size === undefined ? undefined : start + size);
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

interface SectionHeader {
  id: number;
  size: number;
  /** Offset of the section id byte, and of the first content byte. */
  start: number;
  offset: number;
}

async function sectionHeader(r: StreamReader, end: number | undefined): Promise<SectionHeader | undefined> {
  if (await r.atEnd()) return undefined;
  const at = r.offset;
  const { id, size } = await r.parse(6, (c) => ({ id: c.u8(), size: c.u32() }));
  const offset = r.offset;
  if (end !== undefined && offset + size > end) {
    throw new WasmFormatError(`section ${id} length ${size} runs past the end of the input (${end} bytes)`, at);
  }
  return { id, size, start: at, offset };
}

async function parseModule(r: StreamReader, end: number | undefined): Promise<WasmReport> {
  const rep = emptyReport('module', 1);
  const st: DecodeState = { features: 0, instructions: 0 };
  let lastRank = 0;
  let declaredFunctions = 0;
  for (;;) {
    const h = await sectionHeader(r, end);
    if (!h) break;
    const name = CORE_SECTIONS[h.id];
    if (name === undefined) throw new WasmFormatError(`unknown section id ${h.id}`, h.start);
    if (h.id !== 0) {
      const rank = CORE_ORDER[h.id]!;
      if (rank <= lastRank) {
        const dup = rep.sections.some((s) => s.id === h.id);
        throw new WasmFormatError(`${dup ? 'duplicate' : 'out-of-order'} ${name} section`, h.start);
      }
      lastRank = rank;
    }
    const section: WasmReport['sections'][number] = { id: h.id, name, offset: h.offset, size: h.size };
    rep.sections.push(section);
    if (h.id === 0) {
      await customSection(r, h, rep);
    } else if (h.id === 10) {
      section.count = await codeSection(r, h, st);
      if (section.count !== declaredFunctions) {
        throw new WasmFormatError(`code section has ${section.count} bodies but the function section declares ${declaredFunctions}`, h.offset);
      }
      rep.codeBytes = h.size;
    } else if (h.id === 11) {
      section.count = await dataSection(r, h, st, rep);
    } else {
      const c = await r.cursor(h.size, `the ${name} section`);
      const count = coreSection(h.id, c, st, rep);
      if (h.id === 3) declaredFunctions = count;
      if (h.id !== 8) section.count = count;
      if (c.pos !== c.end) c.fail(`${name} section has ${c.end - c.pos} bytes left over`);
    }
  }
  if (declaredFunctions > 0 && !rep.sections.some((s) => s.id === 10)) {
    throw new WasmFormatError(`function section declares ${declaredFunctions} functions but there is no code section`, r.offset);
  }
  rep.functions.defined = declaredFunctions;
  const shared = rep.memories.some((m) => m.shared);
  const memCount = rep.memories.length;
  if (memCount > 1) st.features |= F.multiMemory;
  if (rep.memories.some((m) => m.memory64)) st.features |= F.memory64;
  if (shared) st.features |= F.threads;
  rep.features = featureNames(st.features);
  rep.instructions = st.instructions;
  rep.threads = { uses: shared || rep.threads.spawn.length > 0, sharedMemory: shared, spawn: rep.threads.spawn };
  return rep;
}

/** The sections parsed from one buffered cursor. Returns the entry count. */
function coreSection(id: number, c: Cursor, st: DecodeState, rep: WasmReport): number {
  if (id === 8) {
    rep.start = c.u32();
    return 1;
  }
  if (id === 12) return c.u32();
  const n = c.count(CORE_SECTIONS[id]!);
  for (let i = 0; i < n; i++) {
    switch (id) {
      case 1:
        typeEntry(c, st);
        break;
      case 2:
        importEntry(c, st, rep);
        break;
      case 3:
        c.u32();
        break;
      case 4: {
        if (c.bytes[c.pos] === 0x40) {
          // table with an initial value expression (typed function references)
          c.u8();
          if (c.u8() !== 0) c.fail('invalid table encoding');
          rep.tables.push({ index: rep.tables.length, imported: false, ...tableType(c, st) });
          decodeExpr(c, st, false);
        } else rep.tables.push({ index: rep.tables.length, imported: false, ...tableType(c, st) });
        break;
      }
      case 5:
        rep.memories.push({ index: rep.memories.length, imported: false, ...memType(c, st) });
        break;
      case 6:
        rep.globals.push({ index: rep.globals.length, imported: false, ...globalType(c, st) });
        decodeExpr(c, st, false);
        break;
      case 7: {
        const name = c.name();
        const kind = c.u8();
        if (kind > 4) c.fail(`invalid export kind ${kind}`);
        rep.exports.push({ name, kind: CORE_KINDS[kind]!, index: c.u32() });
        break;
      }
      case 9:
        elemEntry(c, st);
        break;
      case 13:
        st.features |= F.exceptions;
        if (c.u8() !== 0) c.fail('invalid tag attribute');
        c.u32();
        break;
    }
  }
  return n;
}

function typeEntry(c: Cursor, st: DecodeState): void {
  const at = c.offset;
  const form = c.u8();
  if (form === 0x4e) {
    st.features |= F.gc;
    const n = c.count('recursive type');
    for (let i = 0; i < n; i++) typeEntry(c, st);
    return;
  }
  if (form === 0x50 || form === 0x4f) {
    st.features |= F.gc;
    const n = c.count('supertype');
    for (let i = 0; i < n; i++) c.u32();
    compositeType(c, st, c.u8(), c.offset - 1);
    return;
  }
  compositeType(c, st, form, at);
}

function compositeType(c: Cursor, st: DecodeState, form: number, at: number): void {
  if (form === 0x60) {
    for (let k = 0; k < 2; k++) {
      const n = c.count('value type');
      for (let i = 0; i < n; i++) valType(c, st);
    }
  } else if (form === 0x5f || form === 0x5e) {
    st.features |= F.gc;
    const n = form === 0x5e ? 1 : c.count('struct field', 2);
    for (let i = 0; i < n; i++) {
      const b = c.bytes[c.pos];
      if (b === 0x78 || b === 0x77) c.u8();
      else valType(c, st);
      if (c.u8() > 1) c.fail('invalid field mutability');
    }
  } else c.fail(`invalid type form 0x${form.toString(16)}`, at);
}

interface Limits {
  initial: number;
  maximum: number | null;
  shared: boolean;
  is64: boolean;
  pageSize: number;
}

function limits(c: Cursor, what: string): Limits {
  const at = c.offset;
  const flags = c.u8();
  if (flags > 0x0f) c.fail(`invalid ${what} limits flags 0x${flags.toString(16)}`, at);
  const is64 = (flags & 4) !== 0;
  const initial = is64 ? c.u64() : c.u32();
  const maximum = flags & 1 ? (is64 ? c.u64() : c.u32()) : null;
  let pageSize = 65536;
  if (flags & 8) {
    const log2 = c.u32();
    if (log2 > 16) c.fail(`invalid page size 2^${log2}`, at);
    pageSize = 2 ** log2;
  }
  if (maximum !== null && maximum < initial) c.fail(`${what} maximum ${maximum} is below its initial size ${initial}`, at);
  return { initial, maximum, shared: (flags & 2) !== 0, is64, pageSize };
}

function memType(c: Cursor, st: DecodeState): Omit<WasmReport['memories'][number], 'index' | 'imported'> {
  const l = limits(c, 'memory');
  if (l.shared) st.features |= F.threads;
  const bytes = (pages: number) => Math.min(pages * l.pageSize, Number.MAX_SAFE_INTEGER);
  return {
    initial: l.initial,
    maximum: l.maximum,
    shared: l.shared,
    memory64: l.is64,
    pageSize: l.pageSize,
    initialBytes: bytes(l.initial),
    maximumBytes: l.maximum === null ? null : bytes(l.maximum),
  };
}

function tableType(c: Cursor, st: DecodeState): Omit<WasmReport['tables'][number], 'index' | 'imported'> {
  const refType = valType(c, st);
  const l = limits(c, 'table');
  if (l.is64) st.features |= F.memory64;
  return { refType, initial: l.initial, maximum: l.maximum, table64: l.is64 };
}

function globalType(c: Cursor, st: DecodeState): { type: string; mutable: boolean } {
  const type = valType(c, st);
  const mut = c.u8();
  if (mut > 1) c.fail('invalid global mutability');
  return { type, mutable: mut === 1 };
}

function importEntry(c: Cursor, st: DecodeState, rep: WasmReport): void {
  const module = c.name();
  const name = c.name();
  const at = c.offset;
  const kind = c.u8();
  switch (kind) {
    case 0:
      c.u32();
      rep.functions.imported++;
      if (name === 'thread-spawn' || name === 'thread_spawn') rep.threads.spawn.push(`${module}.${name}`);
      break;
    case 1:
      rep.tables.push({ index: rep.tables.length, imported: true, ...tableType(c, st) });
      break;
    case 2:
      rep.memories.push({ index: rep.memories.length, imported: true, ...memType(c, st) });
      break;
    case 3:
      rep.globals.push({ index: rep.globals.length, imported: true, ...globalType(c, st) });
      break;
    case 4:
      st.features |= F.exceptions;
      if (c.u8() !== 0) c.fail('invalid tag attribute');
      c.u32();
      break;
    default:
      c.fail(`invalid import kind ${kind}`, at);
  }
  rep.imports.push({ module, name, kind: CORE_KINDS[kind]! });
}

function elemEntry(c: Cursor, st: DecodeState): void {
  const at = c.offset;
  const flags = c.u32();
  if (flags > 7) c.fail(`invalid element segment flags ${flags}`, at);
  if (flags === 1 || flags === 5) st.features |= F.bulkMemory; // passive
  if (flags === 3 || flags === 7) st.features |= F.referenceTypes; // declarative
  if ((flags & 3) === 2 && c.u32() !== 0) st.features |= F.referenceTypes; // explicit table index
  if ((flags & 1) === 0) decodeExpr(c, st, false); // active: offset expression
  const exprs = (flags & 4) !== 0;
  if (flags & 3) {
    if (exprs) valType(c, st);
    else if (c.u8() !== 0) c.fail('invalid element kind');
  }
  const n = c.count('element');
  for (let i = 0; i < n; i++) {
    if (exprs) decodeExpr(c, st, false);
    else c.u32();
  }
}

/**
 * Code sections up to this size are buffered whole and decoded in one synchronous pass over one buffer
 * (one DataView, no per-body cursor or await). Larger ones - or a code section the input cuts short - are
 * decoded body by body as they stream in, holding one function body at a time.
 */
export const CODE_BUFFER_MAX = 32 * 1024 * 1024;

async function codeSection(r: StreamReader, h: SectionHeader, st: DecodeState): Promise<number> {
  if (h.size <= CODE_BUFFER_MAX && (await buffered(r, h.size)) === h.size) {
    return codeBodies(await r.cursor(h.size, 'the code section'), st);
  }
  const end = h.offset + h.size;
  const n = await r.parse(Math.min(5, h.size), (c) => c.u32());
  if (n > end - r.offset) throw new WasmFormatError(`function body count ${n} is larger than the bytes left`, h.offset);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    let c = r.sizedNow();
    if (!c) {
      const size = await r.parse(Math.min(5, end - at), (cur) => cur.u32());
      if (r.offset + size > end) throw new WasmFormatError(`function body ${i} length ${size} runs past the end of the code section`, at);
      c = await r.cursor(size, `function body ${i}`);
    } else if (c.base + c.end > end) {
      throw new WasmFormatError(`function body ${i} length ${c.end} runs past the end of the code section`, at);
    }
    locals(c, st);
    st.instructions += decodeBody(c, new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength), st);
  }
  if (r.offset !== end) throw new WasmFormatError(`code section has ${end - r.offset} bytes left over`, r.offset);
  return n;
}

/** How many of the next n bytes the reader can buffer; a source that fails on the way counts as short. */
async function buffered(r: StreamReader, n: number): Promise<number> {
  try {
    return await r.need(n);
  } catch (err) {
    if (err instanceof WasmFormatError) return -1;
    throw err;
  }
}

/** A whole code section in one buffer: the count, then each body (size, locals, instructions). */
function codeBodies(c: Cursor, st: DecodeState): number {
  const sectionEnd = c.end;
  const view = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
  const start = c.offset;
  const n = c.u32();
  if (n > sectionEnd - c.pos) throw new WasmFormatError(`function body count ${n} is larger than the bytes left`, start);
  let instructions = 0;
  for (let i = 0; i < n; i++) {
    const at = c.offset;
    const size = c.u32();
    if (size > sectionEnd - c.pos) throw new WasmFormatError(`function body ${i} length ${size} runs past the end of the code section`, at);
    c.end = c.pos + size;
    locals(c, st);
    instructions += decodeBody(c, view, st);
    c.end = sectionEnd;
  }
  st.instructions += instructions;
  if (c.pos !== sectionEnd) throw new WasmFormatError(`code section has ${sectionEnd - c.pos} bytes left over`, c.offset);
  return n;
}

/** A function body's local declarations: groups of (count, value type). */
function locals(c: Cursor, st: DecodeState): void {
  const groups = c.count('local group', 2);
  for (let g = 0; g < groups; g++) {
    c.u32();
    valType(c, st);
  }
}

async function dataSection(r: StreamReader, h: SectionHeader, st: DecodeState, rep: WasmReport): Promise<number> {
  const end = h.offset + h.size;
  const n = await r.parse(Math.min(5, h.size), (c) => c.u32());
  if (n > end - r.offset) throw new WasmFormatError(`data segment count ${n} is larger than the bytes left`, h.offset);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const len = await r.parse(end - at, (c) => {
      const flags = c.u32();
      if (flags > 2) c.fail(`invalid data segment flags ${flags}`, at);
      if (flags === 1) {
        st.features |= F.bulkMemory;
        rep.data.passive++;
      } else {
        if (flags === 2 && c.u32() !== 0) st.features |= F.multiMemory;
        decodeExpr(c, st, false);
      }
      return c.u32();
    });
    if (r.offset + len > end) throw new WasmFormatError(`data segment ${i} length ${len} runs past the end of the data section`, at);
    await r.skip(len, `data segment ${i}`);
    rep.data.bytes += len;
  }
  rep.data.segments = n;
  if (r.offset !== end) throw new WasmFormatError(`data section has ${end - r.offset} bytes left over`, r.offset);
  return n;
}

async function customSection(r: StreamReader, h: SectionHeader, rep: WasmReport): Promise<void> {
  const end = h.offset + h.size;
  const name = await r.parse(h.size, (c) => c.name());
  const left = end - r.offset;
  rep.customSections.push({ name, size: h.size });
  if ((name === 'producers' || name === 'target_features') && left <= CUSTOM_DECODE_MAX) {
    const c = await r.cursor(left, `the ${name} section`);
    try {
      if (name === 'producers') rep.producers = producers(c);
      else rep.targetFeatures = targetFeatures(c);
    } catch (err) {
      // Custom sections are informational: a broken one is noted, never fatal.
      if (!(err instanceof WasmFormatError)) throw err;
      rep.notes.push(`custom section "${name}" could not be decoded: ${err.message} at byte offset ${err.offset}`);
    }
  } else {
    await r.skip(left, `custom section "${name}"`);
  }
}

function producers(c: Cursor): Record<string, Array<{ name: string; version: string }>> {
  const out: Record<string, Array<{ name: string; version: string }>> = {};
  const fields = c.count('producers field');
  for (let i = 0; i < fields; i++) {
    const field = c.name();
    const n = c.count('producer value', 2);
    const values: Array<{ name: string; version: string }> = [];
    for (let k = 0; k < n; k++) values.push({ name: c.name(), version: c.name() });
    out[field] = values;
  }
  return out;
}

function targetFeatures(c: Cursor): WasmReport['targetFeatures'] {
  const out: WasmReport['targetFeatures'] = [];
  const n = c.count('target feature', 2);
  for (let i = 0; i < n; i++) {
    const p = String.fromCharCode(c.u8());
    if (p !== '+' && p !== '-' && p !== '=') c.fail(`invalid target feature prefix ${JSON.stringify(p)}`);
    out.push({ prefix: p, name: c.name() });
  }
  return out;
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

// --- Components ----------------------------------------------------------------------------------

async function parseComponent(r: StreamReader, opts: ParseOptions, end: number | undefined): Promise<WasmReport> {
  const rep = emptyReport('component', 0x0d);
  const comp = { coreModules: 0, components: 0, coreInstances: 0, instances: 0, aliases: 0, types: 0, canons: 0, advancedCanon: [] as string[] };
  rep.component = comp;
  let features = 0;
  for (;;) {
    const h = await sectionHeader(r, end);
    if (!h) break;
    const name = COMPONENT_SECTIONS[h.id];
    if (name === undefined) throw new WasmFormatError(`unknown component section id ${h.id}`, h.start);
    const section: WasmReport['sections'][number] = { id: h.id, name, offset: h.offset, size: h.size };
    rep.sections.push(section);
    if (h.id === 0) {
      await customSection(r, h, rep);
      continue;
    }
    if (h.id === 1 || h.id === 4) {
      const expect = h.id === 1 ? 'module' : 'component';
      const path = `${expect}[${h.id === 1 ? comp.coreModules++ : comp.components++}]`;
      const sub = new StreamReader(r.chunks(h.size, `nested ${expect}`), h.offset);
      const nested = await parseBinary(sub, { ...opts, name: `${opts.name}!${path}` }, h.size, expect).catch((err: unknown) => {
        throw err instanceof WasmFormatError ? new WasmFormatError(`nested ${path}: ${err.message}`, err.offset) : err;
      });
      rep.nested.push({ path, report: nested });
      for (const f of nested.features) features |= featureBit(f);
      if (nested.threads.uses) rep.threads.uses = true;
      if (nested.threads.sharedMemory) rep.threads.sharedMemory = true;
      rep.threads.spawn.push(...nested.threads.spawn.map((s) => `${path}:${s}`));
      rep.instructions += nested.instructions;
      rep.codeBytes += nested.codeBytes;
      continue;
    }
    const c = await r.cursor(h.size, `the ${name} section`);
    if (h.id === 9) {
      rep.start = c.u32();
      c.pos = c.end;
      continue;
    }
    const n = c.count(name);
    section.count = n;
    if (h.id === 2) comp.coreInstances += n;
    else if (h.id === 5) comp.instances += n;
    else if (h.id === 6) comp.aliases += n;
    else if (h.id === 3 || h.id === 7) comp.types += n;
    else if (h.id === 8) {
      comp.canons += n;
      canonSection(c, n, rep, comp.advancedCanon);
    } else if (h.id === 10 || h.id === 11) {
      externSection(c, n, h.id === 10, rep);
    }
    // Entries of type, alias, instance and value sections are counted, not decoded: the section
    // framing (checked above) is what bounds them.
  }
  rep.features = [...new Set(['component-model' as const, ...featureNames(features)])];
  return rep;
}

/**
 * Canonical definitions. lift (0x00), lower (0x01) and resource.new/drop/rep (0x02-0x04) are the basic
 * set; anything else (async, streams, futures, error contexts, threads) is recorded as advanced and ends
 * decoding of the section, whose bounds are known.
 */
function canonSection(c: Cursor, n: number, rep: WasmReport, advanced: string[]): void {
  for (let i = 0; i < n; i++) {
    const op = c.u8();
    if (op === 0x00 || op === 0x01) {
      if (c.u8() !== 0) c.fail('invalid canon function sort');
      c.u32();
      if (!canonOptions(c, advanced)) return;
      if (op === 0x00) c.u32();
    } else if (op >= 0x02 && op <= 0x04) {
      c.u32();
    } else {
      const label = op >= 0x40 && op <= 0x42 ? `thread.${['spawn_ref', 'spawn_indirect', 'available_parallelism'][op - 0x40]}` : `canon 0x${op.toString(16)}`;
      advanced.push(label);
      if (op === 0x40 || op === 0x41) {
        rep.threads.spawn.push(`canon ${label}`);
        rep.threads.uses = true;
      }
      rep.notes.push(`canon section: ${label} is beyond the basic lift/lower/resource set; the rest of the section was not decoded`);
      return;
    }
  }
}

function canonOptions(c: Cursor, advanced: string[]): boolean {
  const n = c.count('canon option');
  for (let i = 0; i < n; i++) {
    const opt = c.u8();
    if (opt <= 0x02) continue;
    if (opt <= 0x05) c.u32();
    else {
      advanced.push(opt === 0x06 ? 'async' : opt === 0x07 ? 'callback' : `canon option 0x${opt.toString(16)}`);
      return false;
    }
  }
  return true;
}

const SORTS: ExternKind[] = ['module', 'func', 'value', 'type', 'component', 'instance'];

/** Component imports (`importname' externdesc`) and exports (`exportname' sortidx externdesc?`). */
function externSection(c: Cursor, n: number, imports: boolean, rep: WasmReport): void {
  for (let i = 0; i < n; i++) {
    const tag = c.u8();
    if (tag > 1) {
      rep.notes.push(`${imports ? 'import' : 'export'} ${i}: unknown name encoding 0x${tag.toString(16)}; the rest of the section was not decoded`);
      return;
    }
    const name = c.name();
    if (tag === 1) c.name(); // version suffix / url of the older encoding
    if (imports) {
      const kind = externDesc(c);
      rep.imports.push({ module: '', name, kind });
    } else {
      const kind = sort(c);
      const index = c.u32();
      if (c.u8() === 1) externDesc(c);
      rep.exports.push({ name, kind, index });
    }
  }
}

function sort(c: Cursor): ExternKind {
  const at = c.offset;
  const s = c.u8();
  if (s === 0x00) {
    const core = c.u8();
    return core === 0x11 ? 'module' : (CORE_KINDS[core] ?? c.fail(`invalid core sort 0x${core.toString(16)}`, at));
  }
  return SORTS[s] ?? c.fail(`invalid sort 0x${s.toString(16)}`, at);
}

function externDesc(c: Cursor): ExternKind {
  const at = c.offset;
  const s = c.u8();
  switch (s) {
    case 0x00:
      if (c.u8() !== 0x11) c.fail('invalid core module type descriptor', at);
      c.u32();
      return 'module';
    case 0x02:
      c.sleb(33);
      return 'value';
    case 0x03:
      if (c.u8() === 0x00) c.u32();
      return 'type';
    case 0x01:
    case 0x04:
    case 0x05:
      c.u32();
      return SORTS[s]!;
    default:
      return c.fail(`invalid extern descriptor 0x${s.toString(16)}`, at);
  }
}
