/**
 * WASM fixtures built at test time from test/fixtures/wasm/*.wat with the real wat2wasm (wabt).
 * A `;; wat2wasm: FLAGS` line passes flags; `;; custom: NAME HEX` lines append custom sections (wabt
 * 1.0.32 ignores `@custom`). Built files land in a temp dir keyed by the sources' hash, so the suite
 * compiles each fixture once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  const sources = readdirSync(WAT_DIR)
    .filter((f) => f.endsWith('.wat'))
    .sort();
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
 * optionally uses an advanced canonical built-in (`extraCanon`, e.g. [0x09, 0x01, 0x00, 0x00]: task.return
 * with no result and no options).
 */
export function buildComponent(core: Uint8Array, extraCanon?: number[]): Buffer {
  const section = (id: number, body: number[] | Uint8Array) => Buffer.concat([Buffer.from([id, ...leb(body.length)]), Buffer.from(body)]);
  const str = (s: string) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
  const canons = [0x00, 0x00, 0x00, 0x00, 0x00]; // lift func 0, no options, type 0
  return Buffer.concat([
    Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]),
    section(1, core),
    section(2, [1, 0x00, 0x00, 0x00]), // core instance: instantiate module 0 with no args
    section(7, [1, 0x40, 0x00, 0x01, 0x00]), // type: func () -> ()
    section(10, [1, 0x00, ...str('wasi:cli/environment'), 0x01, 0x00]), // import a func of type 0
    section(8, [extraCanon ? 2 : 1, ...canons, ...(extraCanon ?? [])]),
    section(11, [1, 0x00, ...str('run'), 0x01, 0x00, 0x00]), // export func 0, no type ascription
  ]);
}

/** Compile WebAssembly text with wabt's wat2wasm (a real toolchain, exact fixtures). */
export function wat2wasm(source: string, flags: string[] = []): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-wat-'));
  try {
    writeFileSync(path.join(dir, 'm.wat'), source);
    const r = spawnSync('wat2wasm', [...flags, 'm.wat', '-o', 'm.wasm'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wat2wasm failed: ${r.stderr || r.error?.message}`);
    return readFileSync(path.join(dir, 'm.wasm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A real module of roughly `functions * 60` bytes: many small arithmetic functions (code compresses like
 * compiled code does) and a data segment; `tag` changes the bytes so two payloads differ.
 */
export function codeModule(functions: number, tag = 0, memoryPages = 1): Buffer {
  const body: string[] = [`(module (memory (export "memory") ${memoryPages} ${Math.max(memoryPages, 16)})`];
  for (let i = 0; i < functions; i++) {
    body.push(
      `(func (export "f${i}") (param i32 i32) (result i32) local.get 0 i32.const ${(i * 7919 + tag) % 65521} i32.add local.get 1 i32.mul i32.const ${i % 31} i32.shl)`,
    );
  }
  body.push(`(data (i32.const 16) "flight deck payload ${tag}"))`);
  return wat2wasm(body.join('\n'));
}

/** A WASI command that writes `text` to stdout and exits with `code`. */
export function helloModule(text: string, code: number): Buffer {
  const bytes = Buffer.from(text);
  return wat2wasm(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 64) "${[...bytes].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('')}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const ${bytes.length}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const ${code}))))`);
}

/**
 * A module the decoder accepts and V8 rejects: `(func (result i32))` with an empty body, well framed but
 * ill-typed (only validation sees it, so wat2wasm builds it only with --no-check).
 */
export function engineRejectedModule(): Buffer {
  return wat2wasm('(module (func (result i32)))', ['--no-check']);
}

/** The module with a custom section holding `bytes` appended (still a valid module). */
export function withCustomSection(module: Buffer, name: string, bytes: Buffer): Buffer {
  return Buffer.concat([module, customSection(name, bytes)]);
}

/** A WIT world with resources, records, variants, flags, options and results, imported and exported. */
export const COMPONENT_WIT = `package flight:deck@0.1.0;
interface types {
  resource kit { constructor(name: string); flash: func(payload: list<u8>) -> result<u32, string>; }
  record budget { memory: u64, threads: u32 }
  enum platform { dreamcast, vita }
  flags caps { simd, threads }
  variant outcome { fits, over(u64) }
  check: func(p: platform, b: budget) -> option<outcome>;
}
world payload {
  use types.{caps};
  import types;
  import log: func(msg: string);
  export run: func(args: list<string>) -> tuple<u32, caps>;
  export types;
}`;

/**
 * A real component built by the Bytecode Alliance toolchain (wasm-tools' wit-component, run in Node by
 * @bytecodealliance/jco-transpile): a core module for COMPONENT_WIT, wrapped with its shim and fixup
 * modules, instances, aliases and canonical lift/lower/resource definitions. `wat` is wasm-tools' own
 * printout of it, an independent decoding to check the inspector against.
 */
export async function realComponent(): Promise<{ bytes: Uint8Array; wat: string }> {
  const tools = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const core = await tools.componentEmbed({ dummy: true, witSource: COMPONENT_WIT, world: 'payload' });
  const bytes = await tools.componentNew(core);
  return { bytes, wat: await tools.print(bytes) };
}

/**
 * A real module of more than `bytes` bytes, built by wat2wasm: one active data segment of `bytes`
 * pseudo-random bytes (incompressible, seeded by `seed`) in a memory of `pages` 64 KiB pages (at least what
 * the segment needs). Larger than one WebSocket message of the web host (4 MiB) when `bytes` is.
 */
export function dataModule(bytes: number, pages = Math.ceil(bytes / 65536) + 1, seed = 1): Buffer {
  let x = seed >>> 0 || 1;
  const hex = new Array<string>(bytes);
  for (let i = 0; i < bytes; i++) {
    // xorshift32: the same bytes for the same seed, no two segments alike.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    hex[i] = '\\' + (x & 0xff).toString(16).padStart(2, '0');
  }
  return wat2wasm(`(module (memory (export "memory") ${pages} ${pages}) (data (i32.const 0) "${hex.join('')}"))`);
}
