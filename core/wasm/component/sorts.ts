/** Sorts (what an index refers to), and the names and extern types of component imports and exports. */
import type { ExternKind } from '../schema.js';
import type { Cursor } from '../reader.js';
import { valType } from './values.js';

/** Export kinds of the api contract for each sort name (a component exports no other core sort). */
export const EXTERN_KIND: Record<string, ExternKind> = {
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
const CORE_SORTS: Record<number, string> = {
  0x00: 'func',
  0x01: 'table',
  0x02: 'memory',
  0x03: 'global',
  0x04: 'tag',
  0x10: 'type',
  0x11: 'module',
  0x12: 'instance',
};
const SORTS: Record<number, string> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };

export function coreSort(c: Cursor): string {
  const at = c.offset;
  const s = c.u8();
  return CORE_SORTS[s] ?? c.fail(`invalid core sort 0x${s.toString(16)}`, at);
}

/** sort ::= 0x00 core:sort | 0x01 func | 0x02 value | 0x03 type | 0x04 component | 0x05 instance */
export function sortName(c: Cursor): string {
  const at = c.offset;
  const s = c.u8();
  if (s === 0x00) return `core ${coreSort(c)}`;
  return SORTS[s] ?? c.fail(`invalid sort 0x${s.toString(16)}`, at);
}

export function sortIdx(c: Cursor): { kind: string; index: number } {
  const kind = sortName(c);
  return { kind, index: c.u32() };
}

/**
 * nameattributes ::= 0x00 name | 0x01 name | 0x02 name vec(attribute), attribute ::= 0x00 name
 * (implements) | 0x01 name (version suffix) | 0x02 name (external id).
 */
export function externName(c: Cursor): string {
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
export function externType(c: Cursor): ExternKind {
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
