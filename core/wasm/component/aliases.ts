/** The alias section (6) of a component, and aliases inside instance and component types. */
import type { WasmReport } from '../schema.js';
import type { Cursor } from '../reader.js';
import { sortName } from './sorts.js';

type ComponentInfo = NonNullable<WasmReport['component']>;

/** alias ::= sort 0x00 instanceidx name | sort 0x01 core:instanceidx core:name | sort 0x02 ct idx */
export function alias(c: Cursor): ComponentInfo['aliasDefs'][number] {
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
