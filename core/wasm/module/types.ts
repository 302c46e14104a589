/**
 * Core module types: the type section's entries (function, GC struct/array, recursive groups and
 * subtypes) and the table, memory and global types that the import, table, memory and global sections
 * (and a component's core module types) declare.
 */
import type { ExternKind, WasmReport } from '../schema.js';
import type { Cursor } from '../reader.js';
import { F, valType as coreValType, type DecodeState } from '../code.js';

/** External kinds by their core encoding (imports and exports). */
export const CORE_KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

/** One type section entry (a recursive group, a subtype or a composite type). */
export function typeEntry(c: Cursor, st: DecodeState): void {
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

export function memType(c: Cursor, st: DecodeState): Omit<WasmReport['memories'][number], 'index' | 'imported'> {
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

export function tableType(c: Cursor, st: DecodeState): Omit<WasmReport['tables'][number], 'index' | 'imported'> {
  const refType = coreValType(c, st);
  const l = limits(c, 'table');
  if (l.is64) st.features |= F.memory64;
  return { refType, initial: l.initial, maximum: l.maximum, table64: l.is64 };
}

export function globalType(c: Cursor, st: DecodeState): { type: string; mutable: boolean } {
  const type = coreValType(c, st);
  const mut = c.u8();
  if (mut > 1) c.fail('invalid global mutability');
  return { type, mutable: mut === 1 };
}
