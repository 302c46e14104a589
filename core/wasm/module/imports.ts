/** The import section of a core module: one entry per import (function, table, memory, global or tag). */
import type { WasmReport } from '../schema.js';
import type { Cursor } from '../reader.js';
import { F, type DecodeState } from '../code.js';
import { CORE_KINDS, globalType, memType, tableType } from './types.js';

export function importEntry(c: Cursor, st: DecodeState, rep: WasmReport): void {
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
