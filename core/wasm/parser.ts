/**
 * Streaming parser for WebAssembly core modules (version 1) and components (version 0x0d, layer 1).
 * It pulls the input chunk by chunk: small sections are buffered one at a time, function bodies one at a
 * time, data segment payloads and unknown custom sections are skipped without being kept, and nested
 * modules of a component are parsed straight from the enclosing stream.
 */
import { FlightDeckError } from '../errors.js';
import type { ExternKind, WasmReport } from '../api/contracts/wasm.js';
import { StreamReader, WasmFormatError, malformed, type Cursor } from './reader.js';
import { F, decodeBody, decodeExpr, featureBit, featureNames, valType as coreValType, type DecodeState } from './code.js';
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
      for (let i = 0; i < n; i++) coreValType(c, st);
    }
  } else if (form === 0x5f || form === 0x5e) {
    st.features |= F.gc;
    const n = form === 0x5e ? 1 : c.count('struct field', 2);
    for (let i = 0; i < n; i++) {
      const b = c.bytes[c.pos];
      if (b === 0x78 || b === 0x77) c.u8();
      else coreValType(c, st);
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
  const refType = coreValType(c, st);
  const l = limits(c, 'table');
  if (l.is64) st.features |= F.memory64;
  return { refType, initial: l.initial, maximum: l.maximum, table64: l.is64 };
}

function globalType(c: Cursor, st: DecodeState): { type: string; mutable: boolean } {
  const type = coreValType(c, st);
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
    if (exprs) coreValType(c, st);
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
    coreValType(c, st);
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
  const comp: ComponentInfo = {
    coreModules: 0,
    components: 0,
    coreInstances: 0,
    instances: 0,
    aliases: 0,
    types: 0,
    canons: 0,
    advancedCanon: [],
    coreInstanceDefs: [],
    instanceDefs: [],
    aliasDefs: [],
    canonDefs: [],
    typeDefs: [],
    coreTypeDefs: [],
  };
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
      // start ::= funcidx vec(valueidx) u32
      rep.start = c.u32();
      const args = c.count('start argument');
      for (let i = 0; i < args; i++) c.u32();
      c.u32();
    } else if (h.id === 12) {
      // Values (not yet in any toolchain) are counted; their encoding depends on their types.
      section.count = c.count(name);
      c.pos = c.end;
    } else {
      const n = c.count(name);
      section.count = n;
      componentSection(h.id, c, n, rep, comp);
    }
    if (c.pos !== c.end) c.fail(`${name} section has ${c.end - c.pos} bytes left over`);
  }
  rep.features = [...new Set(['component-model' as const, ...featureNames(features)])];
  return rep;
}

type ComponentInfo = NonNullable<WasmReport['component']>;

/** Nesting limit for component, instance and module types (each level is at least two bytes). */
const MAX_TYPE_DEPTH = 64;

/**
 * One vector section of a component (Binary.md of the component model, layer 1), every entry decoded:
 * core instances (2), core types (3), instances (5), aliases (6), types (7), canonical definitions (8),
 * imports (10) and exports (11).
 */
function componentSection(id: number, c: Cursor, n: number, rep: WasmReport, comp: ComponentInfo): void {
  for (let i = 0; i < n; i++) {
    switch (id) {
      case 2:
        comp.coreInstanceDefs.push(coreInstance(c, comp.coreInstances++));
        break;
      case 3:
        comp.coreTypeDefs.push(coreType(c, 0));
        comp.types++;
        break;
      case 5:
        comp.instanceDefs.push(instance(c, comp.instances++));
        break;
      case 6:
        comp.aliasDefs.push(alias(c));
        comp.aliases++;
        break;
      case 7:
        comp.typeDefs.push(defType(c, 0));
        comp.types++;
        break;
      case 8:
        comp.canonDefs.push(canon(c, rep, comp.advancedCanon));
        comp.canons++;
        break;
      case 10: {
        const name = externName(c);
        rep.imports.push({ module: '', name, kind: externType(c) });
        break;
      }
      case 11: {
        const name = externName(c);
        const { kind, index } = sortIdx(c);
        if (optional(c)) externType(c);
        rep.exports.push({ name, kind: EXTERN_KIND[kind] ?? 'func', index });
        break;
      }
    }
  }
}

/** Export kinds of the api contract for each sort name (a component exports no other core sort). */
const EXTERN_KIND: Record<string, ExternKind> = {
  func: 'func',
  value: 'value',
  type: 'type',
  component: 'component',
  instance: 'instance',
  'core module': 'module',
  'core func': 'func',
  'core table': 'table',
  'core memory': 'memory',
  'core global': 'global',
  'core tag': 'tag',
};
const CORE_SORTS: Record<number, string> = { 0x00: 'func', 0x01: 'table', 0x02: 'memory', 0x03: 'global', 0x04: 'tag', 0x10: 'type', 0x11: 'module', 0x12: 'instance' };
const SORTS: Record<number, string> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };

function coreSort(c: Cursor): string {
  const at = c.offset;
  const s = c.u8();
  return CORE_SORTS[s] ?? c.fail(`invalid core sort 0x${s.toString(16)}`, at);
}

/** sort ::= 0x00 core:sort | 0x01 func | 0x02 value | 0x03 type | 0x04 component | 0x05 instance */
function sortName(c: Cursor): string {
  const at = c.offset;
  const s = c.u8();
  if (s === 0x00) return `core ${coreSort(c)}`;
  return SORTS[s] ?? c.fail(`invalid sort 0x${s.toString(16)}`, at);
}

function sortIdx(c: Cursor): { kind: string; index: number } {
  const kind = sortName(c);
  return { kind, index: c.u32() };
}

/** `<T>?` ::= 0x00 | 0x01 T */
function optional(c: Cursor): boolean {
  const at = c.offset;
  const b = c.u8();
  if (b > 1) c.fail(`invalid optional flag 0x${b.toString(16)}`, at);
  return b === 1;
}

/**
 * nameattributes ::= 0x00 name | 0x01 name | 0x02 name vec(attribute), attribute ::= 0x00 name
 * (implements) | 0x01 name (version suffix) | 0x02 name (external id).
 */
function externName(c: Cursor): string {
  const at = c.offset;
  const tag = c.u8();
  if (tag > 2) c.fail(`invalid import/export name encoding 0x${tag.toString(16)}`, at);
  const name = c.name();
  if (tag === 2) {
    const n = c.count('name attribute', 2);
    for (let i = 0; i < n; i++) {
      const kat = c.offset;
      const kind = c.u8();
      if (kind > 2) c.fail(`invalid name attribute 0x${kind.toString(16)}`, kat);
      c.name();
    }
  }
  return name;
}

/** externtype: what an import or an export declares. */
function externType(c: Cursor): ExternKind {
  const at = c.offset;
  const s = c.u8();
  switch (s) {
    case 0x00:
      if (c.u8() !== 0x11) c.fail('invalid core module type descriptor', at);
      c.u32();
      return 'module';
    case 0x02: {
      // valuebound ::= 0x00 valueidx | 0x01 valtype
      const bat = c.offset;
      const b = c.u8();
      if (b === 0x00) c.u32();
      else if (b === 0x01) valType(c);
      else c.fail(`invalid value bound 0x${b.toString(16)}`, bat);
      return 'value';
    }
    case 0x03: {
      // typebound ::= 0x00 typeidx (eq) | 0x01 (sub resource)
      const bat = c.offset;
      const b = c.u8();
      if (b === 0x00) c.u32();
      else if (b !== 0x01) c.fail(`invalid type bound 0x${b.toString(16)}`, bat);
      return 'type';
    }
    case 0x01:
    case 0x04:
    case 0x05:
      c.u32();
      return (['func', 'component', 'instance'] as const)[s === 0x01 ? 0 : s - 3]!;
    default:
      return c.fail(`invalid extern type 0x${s.toString(16)}`, at);
  }
}

type CoreInstanceDef = ComponentInfo['coreInstanceDefs'][number];
type InstanceDef = ComponentInfo['instanceDefs'][number];

/** core:instance ::= 0x00 moduleidx vec(name 0x12 instanceidx) | 0x01 vec(name core:sortidx) */
function coreInstance(c: Cursor, index: number): CoreInstanceDef {
  const at = c.offset;
  const form = c.u8();
  if (form === 0x00) {
    const module = c.u32();
    const n = c.count('instantiation argument', 3);
    const args: CoreInstanceDef['args'] = [];
    for (let i = 0; i < n; i++) {
      const name = c.name();
      const kat = c.offset;
      if (c.u8() !== 0x12) c.fail('a core instantiation argument must be an instance', kat);
      args.push({ name, instance: c.u32() });
    }
    return { index, module, args, exports: [] };
  }
  if (form !== 0x01) c.fail(`invalid core instance form 0x${form.toString(16)}`, at);
  const n = c.count('inline export', 3);
  const exports: CoreInstanceDef['exports'] = [];
  for (let i = 0; i < n; i++) {
    const name = c.name();
    const sort = coreSort(c);
    exports.push({ name, sort: `core ${sort}`, index: c.u32() });
  }
  return { index, module: null, args: [], exports };
}

/** instance ::= 0x00 componentidx vec(name sortidx) | 0x01 vec(nameattributes sortidx) */
function instance(c: Cursor, index: number): InstanceDef {
  const at = c.offset;
  const form = c.u8();
  if (form === 0x00) {
    const component = c.u32();
    const n = c.count('instantiation argument', 3);
    const args: InstanceDef['args'] = [];
    for (let i = 0; i < n; i++) {
      const name = c.name();
      const { kind, index: idx } = sortIdx(c);
      args.push({ name, sort: kind, index: idx });
    }
    return { index, component, args, exports: [] };
  }
  if (form !== 0x01) c.fail(`invalid instance form 0x${form.toString(16)}`, at);
  const n = c.count('inline export', 3);
  const exports: InstanceDef['exports'] = [];
  for (let i = 0; i < n; i++) {
    const name = externName(c);
    const { kind, index: idx } = sortIdx(c);
    exports.push({ name, sort: kind, index: idx });
  }
  return { index, component: null, args: [], exports };
}

/** alias ::= sort 0x00 instanceidx name | sort 0x01 core:instanceidx core:name | sort 0x02 ct idx */
function alias(c: Cursor): ComponentInfo['aliasDefs'][number] {
  const sort = sortName(c);
  const at = c.offset;
  const target = c.u8();
  if (target === 0x00 || target === 0x01) {
    const inst = c.u32();
    return { sort, target: target === 0 ? 'export' : 'core export', instance: inst, name: c.name(), outer: null, index: null };
  }
  if (target !== 0x02) c.fail(`invalid alias target 0x${target.toString(16)}`, at);
  const outer = c.u32();
  return { sort, target: 'outer', instance: null, name: null, outer, index: c.u32() };
}

const PRIMITIVES: Record<number, string> = {
  0x7f: 'bool',
  0x7e: 's8',
  0x7d: 'u8',
  0x7c: 's16',
  0x7b: 'u16',
  0x7a: 's32',
  0x79: 'u32',
  0x78: 's64',
  0x77: 'u64',
  0x76: 'f32',
  0x75: 'f64',
  0x74: 'char',
  0x73: 'string',
  0x64: 'error-context',
};

/** valtype ::= typeidx | primvaltype, one s33: negative values are the primitive type opcodes. */
function valType(c: Cursor): void {
  const at = c.offset;
  const v = c.sleb(33);
  if (v < 0 && PRIMITIVES[v + 0x80] === undefined) c.fail(`invalid component value type ${v}`, at);
}

function optionalValType(c: Cursor): void {
  if (optional(c)) valType(c);
}

function labels(c: Cursor, what: string, withType: boolean): void {
  const n = c.count(what, 2);
  for (let i = 0; i < n; i++) {
    c.name();
    if (withType) valType(c);
  }
}

/** deftype: a value type, a function, component, instance or resource type. Returns its kind. */
function defType(c: Cursor, depth: number): string {
  if (depth > MAX_TYPE_DEPTH) c.fail('component types nested too deeply');
  const at = c.offset;
  const form = c.u8();
  const prim = PRIMITIVES[form];
  if (prim !== undefined) return prim;
  switch (form) {
    case 0x72:
      labels(c, 'record field', true);
      return 'record';
    case 0x71: {
      const n = c.count('variant case', 3);
      for (let i = 0; i < n; i++) {
        c.name();
        optionalValType(c);
        const zat = c.offset;
        if (c.u8() !== 0x00) c.fail('invalid variant case trailer', zat);
      }
      return 'variant';
    }
    case 0x70:
      valType(c);
      return 'list';
    case 0x67:
      valType(c);
      c.u32();
      return 'list';
    case 0x6f: {
      const n = c.count('tuple field');
      for (let i = 0; i < n; i++) valType(c);
      return 'tuple';
    }
    case 0x6e:
      labels(c, 'flag', false);
      return 'flags';
    case 0x6d:
      labels(c, 'enum case', false);
      return 'enum';
    case 0x6b:
      valType(c);
      return 'option';
    case 0x6a:
      optionalValType(c);
      optionalValType(c);
      return 'result';
    case 0x69:
      c.u32();
      return 'own';
    case 0x68:
      c.u32();
      return 'borrow';
    case 0x66:
      optionalValType(c);
      return 'stream';
    case 0x65:
      optionalValType(c);
      return 'future';
    case 0x63:
      valType(c);
      valType(c);
      return 'map';
    case 0x40:
    case 0x43: {
      labels(c, 'parameter', true);
      const rat = c.offset;
      const r = c.u8();
      if (r === 0x00) valType(c);
      else if (r !== 0x01 || c.u8() !== 0x00) c.fail('invalid function result list', rat);
      return form === 0x43 ? 'async func' : 'func';
    }
    case 0x41: {
      const n = c.count('component type declaration', 2);
      for (let i = 0; i < n; i++) {
        if (c.bytes[c.pos] === 0x03) {
          c.u8();
          externName(c);
          externType(c);
        } else instanceDecl(c, depth);
      }
      return 'component';
    }
    case 0x42: {
      const n = c.count('instance type declaration', 2);
      for (let i = 0; i < n; i++) instanceDecl(c, depth);
      return 'instance';
    }
    case 0x3f: {
      // resourcetype ::= 0x3f core:valtype (i32 or i64 representation) funcidx?
      const rat = c.offset;
      const rep = c.u8();
      if (rep !== 0x7f && rep !== 0x7e) c.fail(`invalid resource representation 0x${rep.toString(16)}`, rat);
      if (optional(c)) c.u32();
      return 'resource';
    }
    default:
      return c.fail(`invalid component type 0x${form.toString(16)}`, at);
  }
}

/** instancedecl ::= 0x00 core:type | 0x01 type | 0x02 alias | 0x04 exportdecl */
function instanceDecl(c: Cursor, depth: number): void {
  const at = c.offset;
  const tag = c.u8();
  if (tag === 0x00) coreType(c, depth + 1);
  else if (tag === 0x01) defType(c, depth + 1);
  else if (tag === 0x02) alias(c);
  else if (tag === 0x04) {
    externName(c);
    externType(c);
  } else c.fail(`invalid instance type declaration 0x${tag.toString(16)}`, at);
}

/**
 * core:type ::= core:rectype (GC types) | 0x00 0x50 ... (a non-final subtype) | 0x50 vec(moduledecl).
 * Types declare, they do not use: their features are not the component's, so a scratch state is used.
 */
function coreType(c: Cursor, depth: number): string {
  if (depth > MAX_TYPE_DEPTH) c.fail('component types nested too deeply');
  const scratch: DecodeState = { features: 0, instructions: 0 };
  const form = c.bytes[c.pos];
  if (form === 0x50) {
    c.u8();
    const n = c.count('module type declaration', 2);
    for (let i = 0; i < n; i++) {
      const at = c.offset;
      const tag = c.u8();
      if (tag === 0x00) {
        c.name();
        c.name();
        coreExternType(c, scratch);
      } else if (tag === 0x01) coreType(c, depth + 1);
      else if (tag === 0x02) {
        const aat = c.offset;
        if (c.u8() !== 0x10 || c.u8() !== 0x01) c.fail('invalid core alias in a module type', aat);
        c.u32();
        c.u32();
      } else if (tag === 0x03) {
        c.name();
        coreExternType(c, scratch);
      } else c.fail(`invalid module type declaration 0x${tag.toString(16)}`, at);
    }
    return 'module';
  }
  if (form === 0x00) {
    c.u8();
    if (c.bytes[c.pos] !== 0x50) c.fail('invalid core type prefix');
  }
  const at = c.offset;
  typeEntry(c, scratch);
  const first = c.bytes[at - c.base];
  return first === 0x60 ? 'func' : first === 0x4e ? 'rec' : first === 0x5f ? 'struct' : first === 0x5e ? 'array' : 'sub';
}

/** A core import/export descriptor inside a module type. */
function coreExternType(c: Cursor, st: DecodeState): void {
  const at = c.offset;
  const kind = c.u8();
  if (kind === 0x00) c.u32();
  else if (kind === 0x01) tableType(c, st);
  else if (kind === 0x02) memType(c, st);
  else if (kind === 0x03) globalType(c, st);
  else if (kind === 0x04) {
    if (c.u8() !== 0) c.fail('invalid tag attribute');
    c.u32();
  } else c.fail(`invalid import kind ${kind}`, at);
}

/** Canonical built-ins by opcode: name and immediates (t: typeidx, o: opts, a: async?/cancel?, s: shared?, ...). */
const CANON: Record<number, [string, string]> = {
  0x02: ['resource.new', 't'],
  0x03: ['resource.drop', 't'],
  0x04: ['resource.rep', 't'],
  0x05: ['task.cancel', ''],
  0x06: ['subtask.cancel', 'a'],
  0x09: ['task.return', 'ro'],
  0x0a: ['context.get', 'vi'],
  0x0b: ['context.set', 'vi'],
  0x0c: ['thread.yield', 'a'],
  0x0d: ['subtask.drop', ''],
  0x0e: ['stream.new', 't'],
  0x0f: ['stream.read', 'to'],
  0x10: ['stream.write', 'to'],
  0x11: ['stream.cancel-read', 'ta'],
  0x12: ['stream.cancel-write', 'ta'],
  0x13: ['stream.drop-readable', 't'],
  0x14: ['stream.drop-writable', 't'],
  0x15: ['future.new', 't'],
  0x16: ['future.read', 'to'],
  0x17: ['future.write', 'to'],
  0x18: ['future.cancel-read', 'ta'],
  0x19: ['future.cancel-write', 'ta'],
  0x1a: ['future.drop-readable', 't'],
  0x1b: ['future.drop-writable', 't'],
  0x1c: ['error-context.new', 'o'],
  0x1d: ['error-context.debug-message', 'o'],
  0x1e: ['error-context.drop', ''],
  0x1f: ['waitable-set.new', ''],
  0x20: ['waitable-set.wait', 'ai'],
  0x21: ['waitable-set.poll', 'ai'],
  0x22: ['waitable-set.drop', ''],
  0x23: ['waitable.join', ''],
  0x24: ['backpressure.inc', ''],
  0x25: ['backpressure.dec', ''],
  0x26: ['thread.index', ''],
  0x27: ['thread.new-indirect', 'ii'],
  0x28: ['thread.resume-later', ''],
  0x29: ['thread.suspend', 'a'],
  0x2a: ['thread.suspend-then-resume', 'a'],
  0x2b: ['thread.yield-then-resume', 'a'],
  0x2c: ['thread.suspend-then-promote', 'a'],
  0x2d: ['thread.yield-then-promote', 'a'],
  0x40: ['thread.spawn-ref', 'si'],
  0x41: ['thread.spawn-indirect', 'sii'],
  0x42: ['thread.available-parallelism', 's'],
};

/**
 * A canonical definition. lift, lower and resource.new/drop/rep are the basic set; every other built-in
 * (async, streams, futures, error contexts, threads) is recorded in `advanced`, and the async/callback
 * options too. thread.spawn-ref / thread.spawn-indirect (shared-everything threads) are thread use.
 */
function canon(c: Cursor, rep: WasmReport, advanced: string[]): ComponentInfo['canonDefs'][number] {
  const at = c.offset;
  const op = c.u8();
  if (op === 0x00 || op === 0x01) {
    const sat = c.offset;
    if (c.u8() !== 0x00) c.fail('invalid canon function sort', sat);
    const func = c.u32();
    const options = canonOptions(c, advanced);
    const type = op === 0x00 ? c.u32() : null;
    return { op: op === 0x00 ? 'lift' : 'lower', func, type, options };
  }
  const known = CANON[op];
  if (!known) return c.fail(`unknown canonical definition 0x${op.toString(16)}`, at);
  const [label, immediates] = known;
  const def: ComponentInfo['canonDefs'][number] = { op: label, func: null, type: null, options: [] };
  for (const imm of immediates) {
    if (imm === 't') def.type = c.u32();
    else if (imm === 'i') c.u32();
    else if (imm === 'o') def.options.push(...canonOptions(c, advanced));
    else if (imm === 'a') {
      if (optional(c)) def.options.push(label.includes('cancel') && !label.startsWith('thread') ? 'async' : 'cancellable');
    } else if (imm === 's') {
      if (optional(c)) def.options.push('shared');
    } else if (imm === 'v') {
      const vat = c.offset;
      const t = c.u8();
      if (t !== 0x7f && t !== 0x7e) c.fail(`invalid context value type 0x${t.toString(16)}`, vat);
    } else if (imm === 'r') {
      // resultlist ::= 0x00 valtype | 0x01 0x00
      const rat = c.offset;
      const r = c.u8();
      if (r === 0x00) valType(c);
      else if (r !== 0x01 || c.u8() !== 0x00) c.fail('invalid result list', rat);
    }
  }
  if (op > 0x04) advanced.push(label);
  if (op === 0x40 || op === 0x41) {
    rep.threads.spawn.push(`canon ${label}`);
    rep.threads.uses = true;
  }
  return def;
}

function canonOptions(c: Cursor, advanced: string[]): string[] {
  const n = c.count('canon option');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = c.offset;
    const opt = c.u8();
    if (opt <= 0x02) out.push(['string-encoding=utf8', 'string-encoding=utf16', 'string-encoding=latin1+utf16'][opt]!);
    else if (opt === 0x03) out.push(`memory ${c.u32()}`);
    else if (opt === 0x04) out.push(`realloc ${c.u32()}`);
    else if (opt === 0x05) out.push(`post-return ${c.u32()}`);
    else if (opt === 0x06) {
      out.push('async');
      advanced.push('async');
    } else if (opt === 0x07) {
      out.push(`callback ${c.u32()}`);
      advanced.push('callback');
    } else c.fail(`invalid canon option 0x${opt.toString(16)}`, at);
  }
  return out;
}
