/**
 * WASM fixtures built at test time from test/fixtures/wasm/*.wat with the real wat2wasm (wabt).
 * A `;; wat2wasm: FLAGS` line passes flags; `;; custom: NAME HEX` lines append custom sections (wabt
 * 1.0.32 ignores `@custom`). Built files land in a temp dir keyed by the sources' hash, so the suite
 * compiles each fixture once.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

export const WAT_DIR = path.join(ROOT, 'test', 'fixtures', 'wasm');

export type Fixture =
  | 'mem-16mib'
  | 'mem-16mib-plus-page'
  | 'shared-memory'
  | 'wasi-threads'
  | 'simd'
  | 'bulk-memory'
  | 'reference-types'
  | 'tail-call'
  | 'exceptions'
  | 'memory64'
  | 'multi-memory'
  | 'unbounded'
  | 'target-features';

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function customSection(name: string, payload: Uint8Array): Buffer {
  const nameBytes = Buffer.from(name);
  const body = Buffer.concat([Buffer.from(leb(nameBytes.length)), nameBytes, payload]);
  return Buffer.concat([Buffer.from([0, ...leb(body.length)]), body]);
}

let built: string | undefined;

/** Compile every fixture (once per source version) and return the directory holding the .wasm files. */
export function fixtureDir(): string {
  if (built) return built;
  const sources = readdirSync(WAT_DIR).filter((f) => f.endsWith('.wat')).sort();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f).update(readFileSync(path.join(WAT_DIR, f)));
  const dir = path.join(os.tmpdir(), `fd-wasm-fixtures-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    for (const f of sources) {
      const src = readFileSync(path.join(WAT_DIR, f), 'utf8');
      const flags = /^;; wat2wasm: (.+)$/m.exec(src)?.[1]?.split(/\s+/) ?? [];
      const out = path.join(tmp, f.replace(/\.wat$/, '.wasm'));
      execFileSync('wat2wasm', [...flags, path.join(WAT_DIR, f), '-o', out]);
      for (const m of src.matchAll(/^;; custom: (\S+) ([0-9a-f ]+)$/gm)) {
        appendFileSync(out, customSection(m[1]!, Buffer.from(m[2]!.replace(/ /g, ''), 'hex')));
      }
    }
    appendFileSync(path.join(tmp, '.complete'), '');
    try {
      renameSync(tmp, dir);
    } catch {
      // another worker finished first; its copy is identical
    }
  }
  return (built = dir);
}

export function fixture(name: Fixture): string {
  return path.join(fixtureDir(), `${name}.wasm`);
}

export function fixtureBytes(name: Fixture): Buffer {
  return readFileSync(fixture(name));
}

/** Large real binaries shipped in npm packages (the truth for objdump comparisons and benchmarks). */
export const REAL_BINARIES = [
  path.join(ROOT, 'node_modules/sql.js/dist/sql-wasm.wasm'),
  path.join(ROOT, 'node_modules/sql.js/dist/sql-wasm-debug.wasm'),
  path.join(ROOT, 'node_modules/playwright-core/lib/webp_codec.wasm'),
].filter((f) => existsSync(f));

/**
 * A component (version 0x0d, layer 1) built byte by byte: wat2wasm cannot build components. It embeds
 * `core` as a nested core module, instantiates it, lifts one function, imports and exports one func, and
 * optionally uses an advanced canonical built-in (`extraCanon`, e.g. 0x09 task.return).
 */
export function buildComponent(core: Uint8Array, extraCanon?: number[]): Buffer {
  const section = (id: number, body: number[] | Uint8Array) => Buffer.concat([Buffer.from([id, ...leb(body.length)]), Buffer.from(body)]);
  const str = (s: string) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
  const canons = [0x00, 0x00, 0x00, 0x00, 0x00]; // lift func 0, no options, type 0
  return Buffer.concat([
    Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]),
    section(1, core),
    section(2, [1, 0x00, 0x00, 0x00]), // core instance: instantiate module 0 with no args
    section(7, [1, 0x40, 0x00, 0x01, 0x00]), // type: func () -> ()  (counted, not decoded)
    section(10, [1, 0x00, ...str('wasi:cli/environment'), 0x01, 0x00]), // import a func of type 0
    section(8, [extraCanon ? 2 : 1, ...canons, ...(extraCanon ?? [])]),
    section(11, [1, 0x00, ...str('run'), 0x01, 0x00, 0x00]), // export func 0, no type ascription
  ]);
}
