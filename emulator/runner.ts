/**
 * Runs one payload for the emulator, in its own process so stdout/stderr of WASI are real pipes:
 *   node runner.js SLOT_FILE
 * A module exporting `_start` runs as a WASI command (its exit code is ours); one exporting
 * `_initialize` is initialised as a reactor; any other module is instantiated and its exports listed.
 * Imports other than WASI are stubs that trap. No threads are spawned (one thread per payload).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { wasm, type WasmImports } from '../core/deploy/wasm-api.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: runner SLOT_FILE\n');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [path.basename(file)], env: {}, returnOnExit: true });
const module = await wasm.compile(readFileSync(file));
const imports: WasmImports = { ...(wasi.getImportObject() as WasmImports) };
for (const imp of wasm.Module.imports(module)) {
  if (imp.module === 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
  (imports[imp.module] ??= {})[imp.name] = () => {
    throw new Error(`import ${imp.module}.${imp.name} is not provided by the emulator`);
  };
}
try {
  const instance = await wasm.instantiate(module, imports);
  if (typeof instance.exports._start === 'function') {
    process.exitCode = wasi.start(instance);
  } else if (typeof instance.exports._initialize === 'function') {
    wasi.initialize(instance);
  } else {
    process.stderr.write(`loaded; no _start, exports: ${Object.keys(instance.exports).join(', ') || '(none)'}\n`);
  }
} catch (err) {
  process.stderr.write(`trap: ${(err as Error).message}\n`);
  process.exitCode = 134;
}
