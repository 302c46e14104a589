/**
 * Instruction decoding. Every instruction of every function body (and every constant expression) is
 * decoded with its immediates, so the features a module really uses are found from its code, not from
 * what its `target_features` section claims. Unknown opcodes are malformed input.
 */
import { EndOfData, WasmFormatError, type Cursor } from './reader.js';
import type { Feature } from '../api/contracts/wasm.js';

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
  if (v === -0x05) st.features |= F.simd; // 0x7b v128
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
 * Step over a LEB128 immediate at `pos` whose value is unused; returns the position after it. Rejects
 * overlong encodings and, in the last byte, bits beyond the type's width (`lastMask`: bits that must be
 * clear, or for signed types all equal to the sign). Same rules as Cursor.skipLeb, on locals for speed.
 */
function skipLeb(bytes: Uint8Array, pos: number, end: number, base: number, maxBytes: number, lastMask: number, signed: boolean): number {
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= end) throw new EndOfData('unexpected end of data', base + pos);
    const b = bytes[pos++]!;
    if ((b & 0x80) === 0) {
      const high = b & lastMask;
      if (i === maxBytes - 1 && (signed ? high !== 0 && high !== lastMask : high !== 0)) break;
      return pos;
    }
  }
  throw new WasmFormatError('LEB128 overflow', base + pos - 1);
}

/** How the hot loop handles each opcode without the Cursor; 0 means the switch below. */
const NO_IMMEDIATE = 1;
const U32_IMMEDIATE = 2;
const S32_IMMEDIATE = 3;
const FAST = new Uint8Array(256);
for (let op = 0x45; op <= 0xbf; op++) FAST[op] = NO_IMMEDIATE; // numeric instructions
for (const op of [0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24]) FAST[op] = U32_IMMEDIATE; // br, br_if, call, locals, globals
FAST[0x41] = S32_IMMEDIATE; // i32.const
for (const op of [0x00, 0x01, 0x05, 0x0f, 0x1a, 0x1b]) FAST[op] = NO_IMMEDIATE; // unreachable, nop, else, return, drop, select

/**
 * Decode one expression. For a function body (`body`), decoding runs to the cursor's end, which must be
 * the final `end`; for a constant expression it stops after the `end` at depth 0. The frequent
 * instructions are decoded inline on local variables; the rest go through the Cursor.
 */
export function decodeExpr(c: Cursor, st: DecodeState, body: boolean): void {
  const bytes = c.bytes;
  const end = c.end;
  const base = c.base;
  let pos = c.pos;
  let depth = 0;
  let count = 0;
  try {
    for (;;) {
      if (pos >= end) throw new EndOfData('unexpected end of data', base + pos);
      const at = base + pos;
      const op = bytes[pos++]!;
      count++;
      const kind = FAST[op]!;
      if (kind === NO_IMMEDIATE) continue;
      if (kind === U32_IMMEDIATE) {
        pos = skipLeb(bytes, pos, end, base, 5, 0x70, false);
        continue;
      }
      if (kind === S32_IMMEDIATE) {
        pos = skipLeb(bytes, pos, end, base, 5, 0x78, true);
        continue;
      }
      if (op >= 0xc0 && op <= 0xc4) {
        st.features |= F.signExt;
        continue;
      }
      if (op === 0x0b) {
        if (depth === 0) {
          if (body && pos !== end) throw new WasmFormatError('instructions after the final end of a function body', base + pos);
          c.pos = pos;
          return;
        }
        depth--;
        continue;
      }
      if (op >= 0x28 && op <= 0x3e && pos < end && bytes[pos]! < 0x40) {
        // load/store with a one-byte alignment and no memory index: skip the u64 offset
        pos = skipLeb(bytes, pos + 1, end, base, 10, 0x7e, false);
        continue;
      }
      c.pos = pos;
      if (op >= 0x28 && op <= 0x3e) {
        memarg(c, st);
        pos = c.pos;
        continue;
      }
      switch (op) {
        case 0x02: // block
        case 0x03: // loop
        case 0x04: // if
          blockType(c, st);
          depth++;
          break;
        case 0x06: // try (legacy exceptions)
          st.features |= F.exceptions;
          blockType(c, st);
          depth++;
          break;
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
          depth++;
          break;
        }
        case 0x07: // catch
        case 0x08: // throw
        case 0x09: // rethrow
          st.features |= F.exceptions;
          c.u32();
          break;
        case 0x0a: // throw_ref
        case 0x19: // catch_all
          st.features |= F.exceptions;
          break;
        case 0x18: // delegate: ends a try block
          st.features |= F.exceptions;
          c.u32();
          if (--depth < 0) c.fail('delegate without an enclosing try', at);
          break;
        case 0x0e: {
          // br_table
          const n = c.count('br_table label');
          for (let i = 0; i <= n; i++) c.skipU32();
          break;
        }
        case 0x11: // call_indirect
          c.skipU32();
          if (c.u32() !== 0) st.features |= F.referenceTypes;
          break;
        case 0x12: // return_call
          st.features |= F.tailCall;
          c.u32();
          break;
        case 0x13: // return_call_indirect
          st.features |= F.tailCall;
          c.u32();
          if (c.u32() !== 0) st.features |= F.referenceTypes;
          break;
        case 0x14: // call_ref
          st.features |= F.gc;
          c.u32();
          break;
        case 0x15: // return_call_ref
          st.features |= F.gc | F.tailCall;
          c.u32();
          break;
        case 0x1c: {
          // select t*
          st.features |= F.referenceTypes;
          const n = c.count('select type');
          for (let i = 0; i < n; i++) valType(c, st);
          break;
        }
        case 0x25: // table.get
        case 0x26: // table.set
        case 0xd2: // ref.func
          st.features |= F.referenceTypes;
          c.u32();
          break;
        case 0x3f: // memory.size
        case 0x40: // memory.grow
          memIndex(c, st);
          break;
        case 0x42: // i64.const
          c.skipLeb(10, 0x7f, true);
          break;
        case 0x43:
          c.skip(4);
          break;
        case 0x44:
          c.skip(8);
          break;
        case 0xd0: // ref.null
          st.features |= F.referenceTypes;
          heapType(c, st);
          break;
        case 0xd1: // ref.is_null
          st.features |= F.referenceTypes;
          break;
        case 0xd3: // ref.as_non_null
        case 0xd5: // ref.eq
          st.features |= F.gc;
          break;
        case 0xd4: // br_on_null
        case 0xd6: // br_on_non_null
          st.features |= F.gc;
          c.u32();
          break;
        case 0xfb:
          st.features |= F.gc;
          gcOp(c, st, at);
          break;
        case 0xfc:
          miscOp(c, st, at);
          break;
        case 0xfd:
          st.features |= F.simd;
          simdOp(c, st, at);
          break;
        case 0xfe:
          st.features |= F.threads;
          atomicOp(c, st, at);
          break;
        default:
          c.fail(`unknown opcode 0x${op.toString(16)}`, at);
      }
      pos = c.pos;
    }
  } finally {
    st.instructions += count;
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
