/**
 * The core module reader (version 1): the section loop (order, duplicates, the function/code count
 * match) and the small vector sections read from one buffered cursor. The type, import, element, code,
 * data and custom sections have their own readers beside this file.
 */
import type { WasmReport } from '../schema.js';
import { WasmFormatError, type Cursor, type StreamReader } from '../reader.js';
import { F, decodeExpr, featureNames, type DecodeState } from '../code.js';
import { emptyReport, sectionHeader } from '../section.js';
import { customSection } from '../custom.js';
import { CORE_KINDS, globalType, memType, tableType, typeEntry } from './types.js';
import { importEntry } from './imports.js';
import { elemEntry } from './elements.js';
import { codeSection } from './code.js';
import { dataSection } from './data.js';

const CORE_SECTIONS = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'elem', 'code', 'data', 'datacount', 'tag'];
/** Order rank of each known core section id (custom sections may appear anywhere). */
const CORE_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/** Read a core module's sections; the reader stands just after the 8-byte header. */
export async function parseModule(r: StreamReader, end: number | undefined): Promise<WasmReport> {
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
