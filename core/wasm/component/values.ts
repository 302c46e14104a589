/** Component value types (`valtype`: a type index or a primitive) and the `<T>?` optional encoding. */
import type { Cursor } from '../reader.js';

/** `<T>?` ::= 0x00 | 0x01 T */
export function optional(c: Cursor): boolean {
  const at = c.offset;
  const b = c.u8();
  if (b > 1) c.fail(`invalid optional flag 0x${b.toString(16)}`, at);
  return b === 1;
}

export const PRIMITIVES: Record<number, string> = {
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
export function valType(c: Cursor): void {
  const at = c.offset;
  const v = c.sleb(33);
  if (v < 0 && PRIMITIVES[v + 0x80] === undefined) c.fail(`invalid component value type ${v}`, at);
}

export function optionalValType(c: Cursor): void {
  if (optional(c)) valType(c);
}
