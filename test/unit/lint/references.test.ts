import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../support/cli.js';

/**
 * Docs and source comments name files of this repository (`core/wasm/parser.ts`, `docs/cli.md`, a link
 * `[errors.md](errors.md)`); every such name must exist, and nothing may point outside the repository,
 * where a reader of the repo cannot follow it.
 */
const TOP = ['core', 'cli', 'electron', 'native-bridge', 'composition', 'emulator', 'renderer', 'scripts', 'bench', 'docs', 'test', 'assets', 'bin'];
const PATH = new RegExp(`(?<![\\w./-])(?:\\.\\./)*((?:${TOP.join('|')}|shared)/[\\w./-]*[\\w-]\\.(?:ts|js|mjs|cjs|md|svelte|json|yml))\\b`, 'g');
const LINK = /\]\(([^)#\s]+\.(?:md|ts|js|json|yml))(?:#[^)]*)?\)/g;
const SKIP = new Set(['node_modules', 'dist', 'test-results', 'playwright-report', '.git']);

function walk(dir: string, ext: RegExp, out: string[] = []): string[] {
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) walk(rel, ext, out);
    else if (ext.test(e.name)) out.push(rel);
  }
  return out;
}

/** A named file exists as written, as the .ts source of a .js import path, or in a package (`electron/package.json`). */
function exists(rel: string): boolean {
  const candidates = [rel, rel.replace(/\.js$/, '.ts'), rel.replace(/\.js$/, '.svelte.ts'), `node_modules/${rel}`];
  return candidates.some((c) => existsSync(path.join(ROOT, c)));
}

/** The stale names in one file's text: `file:line: name`. */
export function staleReferences(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(PATH)) {
      const name = m[1]!;
      if (name.startsWith('shared/') || !exists(name)) out.push(`${file}:${i + 1}: ${name}`);
    }
    if (file.endsWith('.md')) {
      for (const m of line.matchAll(LINK)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
        if (resolved.startsWith('..') || !exists(resolved)) out.push(`${file}:${i + 1}: ${target}`);
      }
    }
  });
  return out;
}

describe('references to files of the repository', () => {
  it('finds a file that does not exist and a path outside the repository', () => {
    expect(staleReferences('core/api/x.ts', ' * built from this table (see electron/main/ipc.ts, core/api/client.ts).')).toEqual([
      'core/api/x.ts:1: electron/main/ipc.ts',
    ]);
    expect(staleReferences('docs/x.md', 'Flight Deck follows `shared/ARCHITECTURE.md`.')).toEqual(['docs/x.md:1: shared/ARCHITECTURE.md']);
    expect(staleReferences('docs/x.md', 'See [the errors](errors.md), [cli](cli.md#global-options) and [gone](nope.md).')).toEqual(['docs/x.md:1: nope.md']);
    expect(staleReferences('docs/x.md', 'See [design](../../shared/ARCHITECTURE.md).')).toEqual([
      'docs/x.md:1: shared/ARCHITECTURE.md',
      'docs/x.md:1: ../../shared/ARCHITECTURE.md',
    ]);
    expect(staleReferences('core/x.ts', '// parseWasm in core/wasm/parser.js; the bundle dist/cli/flightdeck.mjs; test/support/wasm.ts')).toEqual([]);
  });

  it('every file named in docs/, the README and the source exists', () => {
    const files = [
      'README.md',
      ...walk('docs', /\.md$/),
      ...['core', 'cli', 'electron', 'native-bridge', 'composition', 'emulator', 'renderer/src', 'scripts', 'bench', 'test/support'].flatMap((d) =>
        walk(d, /\.(ts|js|mjs|cjs|svelte)$/),
      ),
    ];
    expect(files.length).toBeGreaterThan(100);
    const stale = files.flatMap((f) => staleReferences(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(stale).toEqual([]);
  });
});
