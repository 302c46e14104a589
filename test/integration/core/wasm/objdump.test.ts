/**
 * The inspector against wabt's wasm-objdump on large real binaries from npm packages: section sizes and
 * counts, memory limits, tables, globals, imports, exports and data segments must agree.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWasm } from '../../../../core/wasm/parser.js';
import { REAL_BINARIES } from '../../../support/wasm.js';

const SECTION_NAMES: Record<string, string> = {
  Type: 'type',
  Import: 'import',
  Function: 'function',
  Table: 'table',
  Memory: 'memory',
  Global: 'global',
  Export: 'export',
  Start: 'start',
  Elem: 'elem',
  DataCount: 'datacount',
  Code: 'code',
  Data: 'data',
  Tag: 'tag',
};

describe.each(REAL_BINARIES)('inspector agrees with wasm-objdump -x on %s', (file) => {
  it('sections, memories, tables, globals, imports, exports, data', async () => {
    expect(REAL_BINARIES.length).toBeGreaterThanOrEqual(2);
    const rep = await parseWasm(createReadStream(file), { name: path.basename(file), size: statSync(file).size });
    const headers = execFileSync('wasm-objdump', ['-h', file], { encoding: 'utf8' });
    const sections = [...headers.matchAll(/^\s*(\w+) start=0x([0-9a-f]+) end=0x([0-9a-f]+) \(size=0x([0-9a-f]+)\)(?: count: (\d+))?(?: "([^"]*)")?/gm)].map(
      (m) => ({
        name: m[1] === 'Custom' ? 'custom' : SECTION_NAMES[m[1]!]!,
        offset: parseInt(m[2]!, 16),
        size: parseInt(m[4]!, 16),
        count: m[5] === undefined ? undefined : Number(m[5]),
      }),
    );
    expect(
      rep.sections.map((s) => ({
        name: s.id === 0 ? 'custom' : s.name,
        offset: s.offset,
        size: s.size,
        count: s.name === 'start' || s.id === 0 ? undefined : s.count,
      })),
    ).toEqual(sections);

    const details = execFileSync('wasm-objdump', ['-x', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const memories = [...details.matchAll(/^ - memory\[(\d+)\] pages: initial=(\d+)(?: max=(\d+))?/gm)].map((m) => [
      Number(m[2]),
      m[3] === undefined ? null : Number(m[3]),
    ]);
    expect(rep.memories.map((m) => [m.initial, m.maximum])).toEqual(memories);
    const tables = [...details.matchAll(/^ - table\[\d+\] type=(\w+) initial=(\d+)(?: max=(\d+))?/gm)].map((m) => [
      m[1],
      Number(m[2]),
      m[3] === undefined ? null : Number(m[3]),
    ]);
    expect(rep.tables.map((t) => [t.refType, t.initial, t.maximum])).toEqual(tables);
    const count = (section: string) => Number(new RegExp(`^${section}\\[(\\d+)\\]:`, 'm').exec(details)?.[1] ?? 0);
    expect(rep.globals.filter((g) => !g.imported)).toHaveLength(count('Global'));
    expect(rep.imports).toHaveLength(count('Import'));
    expect(rep.exports).toHaveLength(count('Export'));
    expect(rep.functions.defined).toBe(count('Function'));
    const segments = [...details.matchAll(/^ - segment\[\d+\] (?:passive |memory=\d+ )?size=(\d+)/gm)].map((m) => Number(m[1]));
    expect(rep.data.segments).toBe(segments.length);
    expect(rep.data.bytes).toBe(segments.reduce((a, b) => a + b, 0));
    expect(rep.instructions).toBeGreaterThan(100_000);
    expect(rep.validation).toMatchObject({ checked: true, valid: true });
  });
});
