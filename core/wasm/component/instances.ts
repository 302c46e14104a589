/** The core instance (2) and instance (5) sections of a component: one instantiation or inline bundle each. */
import type { WasmReport } from '../schema.js';
import type { Cursor } from '../reader.js';
import { coreSort, externName, sortIdx } from './sorts.js';

type ComponentInfo = NonNullable<WasmReport['component']>;
type CoreInstanceDef = ComponentInfo['coreInstanceDefs'][number];
type InstanceDef = ComponentInfo['instanceDefs'][number];

/** core:instance ::= 0x00 moduleidx vec(name 0x12 instanceidx) | 0x01 vec(name core:sortidx) */
export function coreInstance(c: Cursor, index: number): CoreInstanceDef {
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
export function instance(c: Cursor, index: number): InstanceDef {
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
