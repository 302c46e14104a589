/**
 * The component reader (version 0x0d, layer 1): the section loop, the start and value sections, imports
 * and exports, and the vector sections whose entries have their own readers beside this file (core
 * instances and instances, aliases, types and core types, canonical definitions). Nested core modules
 * and components are parsed straight from the enclosing stream by the `parseNested` callback the entry point
 * (`../parser.ts`) passes in, so this reader does not import it back.
 */
import type { WasmReport } from '../schema.js';
import { StreamReader, WasmFormatError, type Cursor } from '../reader.js';
import { featureBit, featureNames } from '../code.js';
import { emptyReport, sectionHeader } from '../section.js';
import { customSection } from '../custom.js';
import { coreInstance, instance } from './instances.js';
import { alias } from './aliases.js';
import { coreType, defType } from './types.js';
import { canon } from './canonicals.js';
import { EXTERN_KIND, externName, externType, sortIdx } from './sorts.js';
import { optional } from './values.js';

type ComponentInfo = NonNullable<WasmReport['component']>;

/** Parses a nested module or component of `size` bytes from `r`; `name` names it in errors. */
export type NestedParser = (r: StreamReader, name: string, size: number, expect: 'module' | 'component') => Promise<WasmReport>;

const COMPONENT_SECTIONS = [
  'custom',
  'core module',
  'core instance',
  'core type',
  'component',
  'instance',
  'alias',
  'type',
  'canon',
  'start',
  'import',
  'export',
  'value',
];

/** Read a component's sections; the reader stands just after the 8-byte header. `input` names it in errors. */
export async function parseComponent(r: StreamReader, input: string, end: number | undefined, parseNested: NestedParser): Promise<WasmReport> {
  const rep = emptyReport('component', 0x0d);
  const comp: ComponentInfo = {
    coreModules: 0,
    components: 0,
    coreInstances: 0,
    instances: 0,
    aliases: 0,
    types: 0,
    canons: 0,
    advancedCanon: [],
    coreInstanceDefs: [],
    instanceDefs: [],
    aliasDefs: [],
    canonDefs: [],
    typeDefs: [],
    coreTypeDefs: [],
  };
  rep.component = comp;
  let features = 0;
  for (;;) {
    const h = await sectionHeader(r, end);
    if (!h) break;
    const name = COMPONENT_SECTIONS[h.id];
    if (name === undefined) throw new WasmFormatError(`unknown component section id ${h.id}`, h.start);
    const section: WasmReport['sections'][number] = { id: h.id, name, offset: h.offset, size: h.size };
    rep.sections.push(section);
    if (h.id === 0) {
      await customSection(r, h, rep);
      continue;
    }
    if (h.id === 1 || h.id === 4) {
      const expect = h.id === 1 ? 'module' : 'component';
      const path = `${expect}[${h.id === 1 ? comp.coreModules++ : comp.components++}]`;
      const sub = new StreamReader(r.chunks(h.size, `nested ${expect}`), h.offset);
      const nested = await parseNested(sub, `${input}!${path}`, h.size, expect).catch((err: unknown) => {
        throw err instanceof WasmFormatError ? new WasmFormatError(`nested ${path}: ${err.message}`, err.offset) : err;
      });
      rep.nested.push({ path, report: nested });
      for (const f of nested.features) features |= featureBit(f);
      if (nested.threads.uses) rep.threads.uses = true;
      if (nested.threads.sharedMemory) rep.threads.sharedMemory = true;
      rep.threads.spawn.push(...nested.threads.spawn.map((s) => `${path}:${s}`));
      rep.instructions += nested.instructions;
      rep.codeBytes += nested.codeBytes;
      continue;
    }
    const c = await r.cursor(h.size, `the ${name} section`);
    if (h.id === 9) {
      // start ::= funcidx vec(valueidx) u32
      rep.start = c.u32();
      const args = c.count('start argument');
      for (let i = 0; i < args; i++) c.u32();
      c.u32();
    } else if (h.id === 12) {
      // Values (not yet in any toolchain) are counted; their encoding depends on their types.
      section.count = c.count(name);
      c.pos = c.end;
    } else {
      const n = c.count(name);
      section.count = n;
      componentSection(h.id, c, n, rep, comp);
    }
    if (c.pos !== c.end) c.fail(`${name} section has ${c.end - c.pos} bytes left over`);
  }
  rep.features = [...new Set(['component-model' as const, ...featureNames(features)])];
  return rep;
}

/**
 * One vector section of a component (Binary.md of the component model, layer 1), every entry decoded:
 * core instances (2), core types (3), instances (5), aliases (6), types (7), canonical definitions (8),
 * imports (10) and exports (11).
 */
function componentSection(id: number, c: Cursor, n: number, rep: WasmReport, comp: ComponentInfo): void {
  for (let i = 0; i < n; i++) {
    switch (id) {
      case 2:
        comp.coreInstanceDefs.push(coreInstance(c, comp.coreInstances++));
        break;
      case 3:
        comp.coreTypeDefs.push(coreType(c, 0));
        comp.types++;
        break;
      case 5:
        comp.instanceDefs.push(instance(c, comp.instances++));
        break;
      case 6:
        comp.aliasDefs.push(alias(c));
        comp.aliases++;
        break;
      case 7:
        comp.typeDefs.push(defType(c, 0));
        comp.types++;
        break;
      case 8:
        comp.canonDefs.push(canon(c, rep, comp.advancedCanon));
        comp.canons++;
        break;
      case 10: {
        const name = externName(c);
        rep.imports.push({ module: '', name, kind: externType(c) });
        break;
      }
      case 11: {
        const name = externName(c);
        const { kind, index } = sortIdx(c);
        if (optional(c)) externType(c);
        rep.exports.push({ name, kind: EXTERN_KIND[kind] ?? 'func', index });
        break;
      }
    }
  }
}
