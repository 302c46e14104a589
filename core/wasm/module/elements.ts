/** The element section of a core module: one entry per element segment (active, passive or declarative). */
import type { Cursor } from '../reader.js';
import { F, decodeExpr, valType as coreValType, type DecodeState } from '../code.js';

export function elemEntry(c: Cursor, st: DecodeState): void {
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
