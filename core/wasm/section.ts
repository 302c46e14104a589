/**
 * What both readers share: the section framing (id byte, u32 size) and the empty report a module or a
 * component reader fills in.
 */
import type { WasmReport } from './schema.js';
import { WasmFormatError, type StreamReader } from './reader.js';
import { engineName } from './engine.js';

export function emptyReport(kind: 'module' | 'component', version: number): WasmReport {
  return {
    kind,
    version,
    size: 0,
    sections: [],
    memories: [],
    tables: [],
    globals: [],
    imports: [],
    exports: [],
    start: null,
    functions: { imported: 0, defined: 0 },
    codeBytes: 0,
    data: { segments: 0, passive: 0, bytes: 0 },
    customSections: [],
    producers: null,
    targetFeatures: [],
    features: [],
    instructions: 0,
    threads: { uses: false, sharedMemory: false, spawn: [] },
    validation: { checked: false, valid: null, engine: engineName() },
    component: null,
    nested: [],
    notes: [],
  };
}

export interface SectionHeader {
  id: number;
  size: number;
  /** Offset of the section id byte, and of the first content byte. */
  start: number;
  offset: number;
}

export async function sectionHeader(r: StreamReader, end: number | undefined): Promise<SectionHeader | undefined> {
  if (await r.atEnd()) return undefined;
  const at = r.offset;
  const { id, size } = await r.parse(6, (c) => ({ id: c.u8(), size: c.u32() }));
  const offset = r.offset;
  if (end !== undefined && offset + size > end) {
    throw new WasmFormatError(`section ${id} length ${size} runs past the end of the input (${end} bytes)`, at);
  }
  return { id, size, start: at, offset };
}
