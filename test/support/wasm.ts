import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
  (memory (export "memory") 1)
  (data (i32.const 64) "${[...bytes].map((b) => '\\' + b.toString(16).padStart(2, '0')).join('')}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const ${bytes.length}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const ${code}))))`);
}

/** The module with a custom section holding `bytes` appended (still a valid module). */
export function withCustomSection(module: Buffer, name: string, bytes: Buffer): Buffer {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return Buffer.from(out);
  };
  const content = Buffer.concat([leb(name.length), Buffer.from(name), bytes]);
  return Buffer.concat([module, Buffer.from([0]), leb(content.length), content]);
}
