import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../../support/cli.js';

/**
 * The WASM reader's parts (docs/architecture.md): parser.ts is the entry; module/ reads core modules,
 * component/ reads components, kept apart as wasmparser keeps them. A component's core module types reuse
 * module/types.ts; a core module never needs the component reader; nothing imports the entry back (nested
 * binaries come back through a callback); and the imports have no cycle.
 */
const DIR = 'core/wasm';

function files(dir = DIR): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    return e.isDirectory() ? files(rel) : e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Relative imports (values and types) of one file, as paths of core/wasm sources. */
function imports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)]
    .map((m) => path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts'))
    .filter((p) => p.startsWith(`${DIR}/`));
}

export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    if (stack.includes(node)) {
      found.push([...stack.slice(stack.indexOf(node)), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...stack, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return found;
}

describe('core/wasm layout', () => {
  const graph = new Map(files().map((f) => [f, imports(f)]));

  it('finds a cycle when there is one', () => {
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', []],
          ['c', ['a', 'b']],
        ]),
      ),
    ).toEqual([]);
  });

  it('has a module reader, a component reader and a thin entry', () => {
    expect([...graph.keys()].filter((f) => f.startsWith(`${DIR}/module/`)).length).toBeGreaterThanOrEqual(4);
    expect([...graph.keys()].filter((f) => f.startsWith(`${DIR}/component/`)).length).toBeGreaterThanOrEqual(4);
    expect(graph.get(`${DIR}/parser.ts`)).toEqual(expect.arrayContaining([`${DIR}/module/parse.ts`, `${DIR}/component/parse.ts`]));
    expect(readFileSync(path.join(ROOT, DIR, 'parser.ts'), 'utf8').split('\n').length).toBeLessThan(200);
  });

  it('the module reader never imports the component reader, and no reader imports the entry', () => {
    for (const [file, deps] of graph) {
      if (file.startsWith(`${DIR}/module/`))
        expect(
          deps.filter((d) => d.startsWith(`${DIR}/component/`)),
          file,
        ).toEqual([]);
      if (file !== `${DIR}/target.ts`) expect(deps, file).not.toContain(`${DIR}/parser.ts`);
    }
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
