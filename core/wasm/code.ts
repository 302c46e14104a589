/**
 * Instruction decoding. Every instruction of every function body (and every constant expression) is
 * decoded with its immediates, so the features a module really uses are found from its code, not from
 * what its `target_features` section claims. Unknown opcodes are malformed input.
 */
import { EndOfData, WasmFormatError, type Cursor } from './reader.js';
import type { Feature } from './schema.js';

export const F = {
  threads: 1 << 0,
  simd: 1 << 1,
  relaxedSimd: 1 << 2,
  memory64: 1 << 3,
  multiMemory: 1 << 4,
  bulkMemory: 1 << 5,
  referenceTypes: 1 << 6,
  exceptions: 1 << 7,
  tailCall: 1 << 8,
  gc: 1 << 9,
  signExt: 1 << 10,
  satConv: 1 << 11,
} as const;

const FEATURE_NAMES: Array<[number, Feature]> = [
  [F.threads, 'threads'],
  [F.simd, 'simd'],
  [F.relaxedSimd, 'relaxed-simd'],
  [F.memory64, 'memory64'],
  [F.multiMemory, 'multi-memory'],
  [F.bulkMemory, 'bulk-memory'],
  [F.referenceTypes, 'reference-types'],
  [F.exceptions, 'exception-handling'],
  [F.tailCall, 'tail-call'],
  [F.gc, 'gc'],
  [F.signExt, 'sign-extension'],
  [F.satConv, 'saturating-float-to-int'],
];

export function featureBit(name: Feature): number {
  return FEATURE_NAMES.find(([, n]) => n === name)?.[0] ?? 0;
}

export function featureNames(bits: number): Feature[] {
  return FEATURE_NAMES.filter(([bit]) => bits & bit).map(([, name]) => name);
}

/** What decoding found so far. */
export interface DecodeState {
  features: number;
  instructions: number;
}

/** A value type; reference and vector types mark their feature. */
export function valType(c: Cursor, st: DecodeState): string {
  const at = c.offset;
  const b = c.u8();
  switch (b) {
    case 0x7f:
      return 'i32';
    case 0x7e:
      return 'i64';
    case 0x7d:
      return 'f32';
    case 0x7c:
      return 'f64';
    case 0x7b:
      st.features |= F.simd;
      return 'v128';
    case 0x70:
      return 'funcref';
    case 0x6f:
      st.features |= F.referenceTypes;
      return 'externref';
    case 0x69:
    case 0x74:
      st.features |= F.exceptions;
      return b === 0x69 ? 'exnref' : 'nullexnref';
    case 0x63:
    case 0x64:
      st.features |= F.gc;
      heapType(c, st);
      return b === 0x63 ? 'ref null' : 'ref';
    default:
      if (b >= 0x6a && b <= 0x73) {
        st.features |= F.gc;
        return 'anyref';
      }
      return c.fail(`invalid value type 0x${b.toString(16)}`, at);
  }
}

/** A heap type: an abstract type (negative s33) or a type index (typed references, GC). */
function heapType(c: Cursor, st: DecodeState): void {
  const at = c.offset;
  const v = c.sleb(33);
  if (v >= 0) {
    st.features |= F.gc;
    return;
  }
  const b = v + 0x80;
  if (b === 0x69 || b === 0x74) st.features |= F.exceptions;
  else if (b === 0x6f) st.features |= F.referenceTypes;
  else if (b !== 0x70) {
    if (b < 0x6a || b > 0x73) c.fail(`invalid heap type ${v}`, at);
    st.features |= F.gc;
  }
}

function blockType(c: Cursor, st: DecodeState): void {
  const b = c.bytes[c.pos];
  if (b === 0x63 || b === 0x64) {
    valType(c, st);
    return;
  }
  const v = c.sleb(33);
  if (v === -0x05)
    st.features |= F.simd; // 0x7b v128
  else if (v === -0x11) st.features |= F.referenceTypes; // 0x6f externref
}

function memarg(c: Cursor, st: DecodeState): void {
  const align = c.u32();
  if (align & 0x40) {
    st.features |= F.multiMemory;
    c.skipU32();
  }
  c.skipLeb(10, 0x7e, false); // offset: u64 (memory64), a u32 otherwise, which this also accepts
}

function memIndex(c: Cursor, st: DecodeState): void {
  if (c.u32() !== 0) st.features |= F.multiMemory;
}

/**
 * Opcode kinds (KIND[op]) of the careful loop. Every kind but SLOW has an inline path for the common
 * encodings (short LEB128 immediates, fully inside the expression); anything else - a long or malformed
 * immediate, a memory index, a typed block, a truncated body - re-decodes that one instruction with
 * `slowInstr` on the Cursor, which is the reference decoding and produces the errors with their offsets.
 */
const SLOW = 0;
const NONE = 1; // no immediate
const U32 = 2; // one u32 (or s32 for i32.const: a short LEB128 is valid for both)
const MEMARG = 3; // loads and stores: align (flags) and offset
const END = 4;
const BLOCK = 5; // block, loop, if: a block type
const I64 = 6; // i64.const: s64
const F32 = 7;
const F64 = 8;
const SIGN_EXT = 9;
const KIND = new Uint8Array(256);
for (let op = 0x45; op <= 0xbf; op++) KIND[op] = NONE; // numeric instructions
for (const op of [0x00, 0x01, 0x05, 0x0f, 0x1a, 0x1b]) KIND[op] = NONE; // unreachable, nop, else, return, drop, select
for (const op of [0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x41]) KIND[op] = U32; // br, br_if, call, locals, globals, i32.const
for (let op = 0x28; op <= 0x3e; op++) KIND[op] = MEMARG;
KIND[0x0b] = END;
for (const op of [0x02, 0x03, 0x04]) KIND[op] = BLOCK;
KIND[0x42] = I64;
KIND[0x43] = F32;
KIND[0x44] = F64;
for (let op = 0xc0; op <= 0xc4; op++) KIND[op] = SIGN_EXT;
void SLOW;

/**
 * The hot loop's table, indexed by the first two bytes of an instruction read as one little-endian u16
 * (opcode | next byte << 8). Each entry is the instruction's whole length when those two bytes decide it
 * (bits 0-3; 0 = look closer), plus its block depth change + 1 (bits 4-5): no immediate (length 1; `end`
 * closes a block), a one-byte u32/s32/s64 immediate (2), a one-byte block type (2, opens a block),
 * f32.const (5) and f64.const (9). With STEP3 for the third byte, 97 % of the instructions of sql.js's
 * build are decided here.
 *
 * A STEP entry of THIRD: the length depends on the third byte, looked up in STEP3 (opcode | third byte << 8).
 */
const THIRD = 0x80;
/** STEP and STEP3, built on the first decode (128 KiB and ~65k iterations: kept off every CLI start-up). */
let tables: { STEP: Uint8Array; STEP3: Uint8Array } | undefined;
/** Code bytes decoded by the careful loop before the tables are built (building them costs ~2-3 ms). */
const TABLES_AFTER = 64 * 1024;
let carefulBytes = 0;

function buildTables(): { STEP: Uint8Array; STEP3: Uint8Array } {
  const STEP = new Uint8Array(65536);
  const STEP3 = new Uint8Array(65536);
  for (let op = 0; op < 256; op++) {
    const kind = KIND[op]!;
    for (let next = 0; next < 256; next++) {
      let length = 0;
      if (kind === NONE || kind === END) length = 1;
      else if ((kind === U32 || kind === I64) && next < 0x80) length = 2;
      else if (kind === BLOCK && (next === 0x40 || (next >= 0x7c && next <= 0x7f))) length = 2;
      else if (kind === F32) length = 5;
      else if (kind === F64) length = 9;
      const delta = kind === END ? -1 : kind === BLOCK ? 1 : 0;
      if (length) STEP[op | (next << 8)] = length | ((delta + 1) << 4);
      else if ((kind === U32 && next >= 0x80) || (kind === MEMARG && next < 0x40)) STEP[op | (next << 8)] = THIRD;
      // third byte: the end of a two-byte u32, or of a one-byte memarg offset
      if ((kind === U32 || kind === MEMARG) && next < 0x80) STEP3[op | (next << 8)] = 3 | (1 << 4);
    }
  }
  return { STEP, STEP3 };
}

/**
 * The end of a LEB128 number at `p` when it is at most `max` bytes long (max < the type's full width, so
 * no last-byte range check applies) and ends before `end`; -1 otherwise (the caller takes the slow path).
 */
function shortLeb(b: Uint8Array, p: number, end: number, max: number): number {
  const limit = Math.min(end, p + max);
  while (p < limit) if (b[p++]! < 0x80) return p;
  return -1;
}

/**
 * Decode one function body: the cursor is at its first instruction, `c.end` is the body's end, and
 * `view` is a DataView over the same memory as `c.bytes` (one per code section, shared by its bodies).
 * Decoding must end with the body's final `end` exactly at `c.end`. Returns the instructions decoded.
 *
 * The loop reads four bytes at a time (one DataView load) and looks the first two up in STEP (the third
 * in STEP3 when STEP says so); the position stays in a local. What the tables do not decide goes through
 * `step` (short multi-byte immediates inline, the rest through the Cursor), and the last three bytes of
 * the buffer through the careful loop.
 */
export function decodeBody(c: Cursor, view: DataView, st: DecodeState): number {
  if (!tables) {
    // The first TABLES_AFTER bytes of code go through the careful loop (the same checks, one opcode kind
    // at a time): a small module, e.g. `flightdeck inspect small.wasm`, never pays for building the tables.
    if (carefulBytes < TABLES_AFTER) {
      carefulBytes += c.end - c.pos;
      return careful(c, st, true, 0);
    }
    tables = buildTables();
  }
  const { STEP, STEP3 } = tables;
  const end = c.end;
  const limit = Math.min(end, c.bytes.length - 3);
  let pos = c.pos;
  let depth = 0;
  let count = 0;
  while (pos < limit) {
    const w = view.getUint32(pos, true);
    let e = STEP[w & 0xffff]!;
    if (e === THIRD) e = STEP3[(w & 0xff) | ((w >>> 8) & 0xff00)]!;
    count++;
    const length = e & 15;
    if (length !== 0 && pos + length <= end) {
      pos += length;
      depth += (e >> 4) - 1;
      if (depth < 0) {
        if (pos !== end) throw new WasmFormatError('instructions after the final end of a function body', c.base + pos);
        c.pos = pos;
        return count;
      }
      continue;
    }
    c.pos = pos + 1;
    const delta = step(c, st, c.bytes[pos]!, c.base + pos);
    if (delta < 0 && --depth < 0) c.fail('delegate without an enclosing try', c.base + pos);
    if (delta > 0) depth++;
    pos = c.pos;
  }
  c.pos = pos;
  return count + careful(c, st, true, depth);
}

/** One instruction that STEP did not decide; the cursor is just past its opcode. Returns the depth change. */
function step(c: Cursor, st: DecodeState, op: number, at: number): number {
  const kind = KIND[op];
  const bytes = c.bytes;
  const pos = c.pos;
  let p = -1;
  if (kind === U32) p = shortLeb(bytes, pos, c.end, 4);
  else if (kind === MEMARG) {
    if (pos < c.end && bytes[pos]! < 0x40) p = shortLeb(bytes, pos + 1, c.end, 9);
  } else if (kind === I64) p = shortLeb(bytes, pos, c.end, 9);
  else if (kind === SIGN_EXT) {
    st.features |= F.signExt;
    return 0;
  }
  if (p >= 0) {
    c.pos = p;
    return 0;
  }
  return slowInstr(c, st, op, at);
}

/**
 * Decode one expression. For a function body (`body`), decoding runs to the cursor's end, which must be
 * the final `end`; for a constant expression it stops after the `end` at depth 0.
 */
export function decodeExpr(c: Cursor, st: DecodeState, body: boolean): void {
  st.instructions += careful(c, st, body, 0);
}

/** The expression loop on the Cursor, one opcode kind at a time, from block depth `depth`. Returns the count. */
function careful(c: Cursor, st: DecodeState, body: boolean, depth: number): number {
  const bytes = c.bytes;
  const end = c.end;
  let pos = c.pos;
  let count = 0;
  for (;;) {
    if (pos >= end) throw new EndOfData('unexpected end of data', c.base + pos);
    const op = bytes[pos]!;
    const next = pos + 1;
    count++;
    let p = -1;
    switch (KIND[op]) {
      case NONE:
        pos = next;
        continue;
      case U32:
        p = shortLeb(bytes, next, end, 4);
        break;
      case MEMARG:
        // align without the memory-index bit (one byte), then a u64 offset
        if (next < end && bytes[next]! < 0x40) p = shortLeb(bytes, next + 1, end, 9);
        break;
      case END:
        if (depth === 0) {
          if (body && next !== end) throw new WasmFormatError('instructions after the final end of a function body', c.base + next);
          c.pos = next;
          return count;
        }
        depth--;
        pos = next;
        continue;
      case BLOCK: {
        // empty block type or one number type: one byte
        const t = next < end ? bytes[next]! : 0;
        if (t === 0x40 || (t >= 0x7c && t <= 0x7f)) {
          depth++;
          pos = next + 1;
          continue;
        }
        break;
      }
      case I64:
        p = shortLeb(bytes, next, end, 9);
        break;
      case F32:
        if (next + 4 <= end) p = next + 4;
        break;
      case F64:
        if (next + 8 <= end) p = next + 8;
        break;
      case SIGN_EXT:
        st.features |= F.signExt;
        pos = next;
        continue;
    }
    if (p >= 0) {
      pos = p;
      continue;
    }
    c.pos = next;
    const delta = slowInstr(c, st, op, c.base + pos);
    if (delta < 0 && --depth < 0) c.fail('delegate without an enclosing try', c.base + pos);
    if (delta > 0) depth++;
    pos = c.pos;
  }
}

/**
 * Step over a LEB128 immediate whose value is unused, rejecting overlong encodings and, in the last byte,
 * bits beyond the type's width (`lastMask`: bits that must be clear, or for signed types all equal to the
 * sign). Like Cursor.skipLeb, but an overflow is reported at the offending last byte.
 */
function skipImmediate(c: Cursor, maxBytes: number, lastMask: number, signed: boolean): void {
  const bytes = c.bytes;
  let pos = c.pos;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= c.end) throw new EndOfData('unexpected end of data', c.base + pos);
    const b = bytes[pos++]!;
    if ((b & 0x80) === 0) {
      const high = b & lastMask;
      if (i === maxBytes - 1 && (signed ? high !== 0 && high !== lastMask : high !== 0)) break;
      c.pos = pos;
      return;
    }
  }
  throw new WasmFormatError('LEB128 overflow', c.base + pos - 1);
}

/**
 * One instruction through the Cursor (the cursor is just past the opcode `op`, found at offset `at`).
 * Returns +1 when it opens a block, -1 when it closes one without `end` (delegate), else 0.
 */
function slowInstr(c: Cursor, st: DecodeState, op: number, at: number): number {
  switch (op) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
      blockType(c, st);
      return 1;
    case 0x06: // try (legacy exceptions)
      st.features |= F.exceptions;
      blockType(c, st);
      return 1;
    case 0x1f: {
      // try_table
      st.features |= F.exceptions;
      blockType(c, st);
      const n = c.count('catch clause', 2);
      for (let i = 0; i < n; i++) {
        const kind = c.u8();
        if (kind > 3) c.fail(`invalid catch kind ${kind}`);
        if (kind < 2) c.u32();
        c.u32();
      }
      return 1;
    }
    case 0x07: // catch
    case 0x08: // throw
    case 0x09: // rethrow
      st.features |= F.exceptions;
      c.u32();
      return 0;
    case 0x0a: // throw_ref
    case 0x19: // catch_all
      st.features |= F.exceptions;
      return 0;
    case 0x18: // delegate: ends a try block
      st.features |= F.exceptions;
      c.u32();
      return -1;
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
      skipImmediate(c, 5, 0x70, false);
      return 0;
    case 0x41: // i32.const
      skipImmediate(c, 5, 0x78, true);
      return 0;
    case 0x0e: {
      // br_table
      const n = c.count('br_table label');
      for (let i = 0; i <= n; i++) c.skipU32();
      return 0;
    }
    case 0x11: // call_indirect
      c.skipU32();
      if (c.u32() !== 0) st.features |= F.referenceTypes;
      return 0;
    case 0x12: // return_call
      st.features |= F.tailCall;
      c.u32();
      return 0;
    case 0x13: // return_call_indirect
      st.features |= F.tailCall;
      c.u32();
      if (c.u32() !== 0) st.features |= F.referenceTypes;
      return 0;
    case 0x14: // call_ref
      st.features |= F.gc;
      c.u32();
      return 0;
    case 0x15: // return_call_ref
      st.features |= F.gc | F.tailCall;
      c.u32();
      return 0;
    case 0x1c: {
      // select t*
      st.features |= F.referenceTypes;
      const n = c.count('select type');
      for (let i = 0; i < n; i++) valType(c, st);
      return 0;
    }
    case 0x25: // table.get
    case 0x26: // table.set
    case 0xd2: // ref.func
      st.features |= F.referenceTypes;
      c.u32();
      return 0;
    case 0x3f: // memory.size
    case 0x40: // memory.grow
      memIndex(c, st);
      return 0;
    case 0x42: // i64.const
      c.skipLeb(10, 0x7f, true);
      return 0;
    case 0x43:
      c.skip(4);
      return 0;
    case 0x44:
      c.skip(8);
      return 0;
    case 0xd0: // ref.null
      st.features |= F.referenceTypes;
      heapType(c, st);
      return 0;
    case 0xd1: // ref.is_null
      st.features |= F.referenceTypes;
      return 0;
    case 0xd3: // ref.as_non_null
    case 0xd5: // ref.eq
      st.features |= F.gc;
      return 0;
    case 0xd4: // br_on_null
    case 0xd6: // br_on_non_null
      st.features |= F.gc;
      c.u32();
      return 0;
    case 0xfb:
      st.features |= F.gc;
      gcOp(c, st, at);
      return 0;
    case 0xfc:
      miscOp(c, st, at);
      return 0;
    case 0xfd:
      st.features |= F.simd;
      simdOp(c, st, at);
      return 0;
    case 0xfe:
      st.features |= F.threads;
      atomicOp(c, st, at);
      return 0;
    default:
      if (op >= 0x28 && op <= 0x3e) {
        if (c.pos < c.end && c.bytes[c.pos]! < 0x40) {
          // one-byte alignment, no memory index: the u64 offset follows
          c.pos++;
          skipImmediate(c, 10, 0x7e, false);
        } else memarg(c, st);
        return 0;
      }
      return c.fail(`unknown opcode 0x${op.toString(16)}`, at);
  }
}

function gcOp(c: Cursor, st: DecodeState, at: number): void {
  const sub = c.u32();
  if (sub <= 1 || (sub >= 6 && sub <= 7) || (sub >= 11 && sub <= 14) || sub === 16) c.u32();
  else if ((sub >= 2 && sub <= 5) || (sub >= 8 && sub <= 10) || (sub >= 17 && sub <= 19)) {
    c.u32();
    c.u32();
  } else if (sub >= 20 && sub <= 23) heapType(c, st);
  else if (sub === 24 || sub === 25) {
    c.u8();
    c.u32();
    heapType(c, st);
    heapType(c, st);
  } else if (sub !== 15 && !(sub >= 26 && sub <= 30)) c.fail(`unknown GC opcode 0xfb ${sub}`, at);
}

function miscOp(c: Cursor, st: DecodeState, at: number): void {
  const sub = c.u32();
  if (sub <= 7) {
    st.features |= F.satConv;
    return;
  }
  if (sub <= 14) st.features |= F.bulkMemory;
  switch (sub) {
    case 8: // memory.init data mem
      c.u32();
      memIndex(c, st);
      break;
    case 9: // data.drop
    case 13: // elem.drop
      c.u32();
      break;
    case 10: // memory.copy
      memIndex(c, st);
      memIndex(c, st);
      break;
    case 11: // memory.fill
      memIndex(c, st);
      break;
    case 12: // table.init elem table
    case 14: // table.copy
      c.u32();
      if (c.u32() !== 0) st.features |= F.referenceTypes;
      break;
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      st.features |= F.referenceTypes;
      c.u32();
      break;
    default:
      c.fail(`unknown opcode 0xfc ${sub}`, at);
  }
}

/**
 * SIMD (0xfd). Immediates by sub-opcode: memory ops carry a memarg (and a lane for the lane loads and
 * stores), v128.const and i8x16.shuffle 16 bytes, lane ops one lane byte; the rest none. 0x100-0x113
 * are relaxed SIMD.
 */
function simdOp(c: Cursor, st: DecodeState, at: number): void {
  const sub = c.u32();
  if (sub <= 11 || sub === 92 || sub === 93) memarg(c, st);
  else if (sub === 12 || sub === 13) c.skip(16);
  else if (sub >= 21 && sub <= 34) c.u8();
  else if (sub >= 84 && sub <= 91) {
    memarg(c, st);
    c.u8();
  } else if (sub >= 0x100 && sub <= 0x113) st.features |= F.relaxedSimd;
  else if (sub > 0xff) c.fail(`unknown SIMD opcode 0xfd ${sub}`, at);
}

function atomicOp(c: Cursor, st: DecodeState, at: number): void {
  const sub = c.u32();
  if (sub === 3) {
    if (c.u8() !== 0) c.fail('atomic.fence takes a zero byte', at);
  } else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) memarg(c, st);
  else c.fail(`unknown atomic opcode 0xfe ${sub}`, at);
}
