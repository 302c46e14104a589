/**
 * Custom sections (id 0), in modules and components alike: every one is listed by name and size; the
 * producers and target_features sections are decoded, the rest skipped without being kept.
 */
import type { WasmReport } from './schema.js';
import { WasmFormatError, type Cursor, type StreamReader } from './reader.js';
import type { SectionHeader } from './section.js';

/** Custom sections we decode (producers, target_features) are small; larger ones are skipped. */
const CUSTOM_DECODE_MAX = 1024 * 1024;

export async function customSection(r: StreamReader, h: SectionHeader, rep: WasmReport): Promise<void> {
  const end = h.offset + h.size;
  const name = await r.parse(h.size, (c) => c.name());
  const left = end - r.offset;
  rep.customSections.push({ name, size: h.size });
  if ((name === 'producers' || name === 'target_features') && left <= CUSTOM_DECODE_MAX) {
    const c = await r.cursor(left, `the ${name} section`);
    try {
      if (name === 'producers') rep.producers = producers(c);
      else rep.targetFeatures = targetFeatures(c);
    } catch (err) {
      // Custom sections are informational: a broken one is noted, never fatal.
      if (!(err instanceof WasmFormatError)) throw err;
      rep.notes.push(`custom section "${name}" could not be decoded: ${err.message} at byte offset ${err.offset}`);
    }
  } else {
    await r.skip(left, `custom section "${name}"`);
  }
}

function producers(c: Cursor): Record<string, Array<{ name: string; version: string }>> {
  const out: Record<string, Array<{ name: string; version: string }>> = {};
  const fields = c.count('producers field');
  for (let i = 0; i < fields; i++) {
    const field = c.name();
    const n = c.count('producer value', 2);
    const values: Array<{ name: string; version: string }> = [];
    for (let k = 0; k < n; k++) values.push({ name: c.name(), version: c.name() });
    out[field] = values;
  }
  return out;
}

function targetFeatures(c: Cursor): WasmReport['targetFeatures'] {
  const out: WasmReport['targetFeatures'] = [];
  const n = c.count('target feature', 2);
  for (let i = 0; i < n; i++) {
    const p = String.fromCharCode(c.u8());
    if (p !== '+' && p !== '-' && p !== '=') c.fail(`invalid target feature prefix ${JSON.stringify(p)}`);
    out.push({ prefix: p, name: c.name() });
  }
  return out;
}
