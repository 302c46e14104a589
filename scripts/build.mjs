#!/usr/bin/env node
// One build: CLI, core, native-bridge, composition, emulator and Electron main (tsc -> dist/), the renderer bundle
// (Vite -> dist/renderer) and the sandboxed preload (Vite -> dist/electron/preload/preload.cjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const quiet = process.argv.includes('--quiet');

function step(label, cmd, args) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
  if (r.status !== 0) {
    if (quiet && r.stdout) process.stdout.write(r.stdout);
    console.error(`build: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  console.log(`build: ${label} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
step('tsc (core, cli, native-bridge, composition, emulator, electron main)', bin('tsc'), ['-p', 'tsconfig.json']);
// The CLI as two bundles: Node resolves, reads and compiles one file instead of a few hundred, which takes
// ~70 ms off every command's start-up (`npm run bench -- cli-startup`). Native and optional packages stay
// external and load from node_modules.
const external = ['serialport', '@serialport/*', 'usb', 'keytar', '@napi-rs/keyring', 'electron'].map((p) => `--external:${p}`);
const common = ['--bundle', '--platform=node', '--target=node20', '--minify-whitespace', '--minify-syntax', '--log-level=warning', ...external];
// 1. The commands (cli/main.ts and all it imports) as CommonJS, dist/cli/flightdeck-main.cjs: cli/load-main.ts
//    compiles it through vm.Script with V8's code cache (step 3). `import.meta.url` becomes the bundle's URL.
step('esbuild (cli commands bundle)', bin('esbuild'), [
  'dist/cli/main.js',
  ...common,
  '--format=cjs',
  '--outfile=dist/cli/flightdeck-main.cjs',
  '--define:import.meta.url=__flightdeckImportMetaUrl',
  `--inject:${path.join(root, 'scripts/shims/import-meta-url.js')}`,
  `--alias:node:process=${path.join(root, 'scripts/shims/node-process.cjs')}`,
]);
// cli/load-main.ts reads the bundle as latin1 (a one-byte string, no UTF-8 decoding: ~10 ms of every start-up),
// which is exact only for ASCII: esbuild escapes every other character (its default --charset=ascii); make sure.
{
  const bundle = readFileSync(path.join(root, 'dist/cli/flightdeck-main.cjs'));
  const at = bundle.findIndex((b) => b > 0x7f);
  if (at !== -1) {
    console.error(`build: dist/cli/flightdeck-main.cjs has a non-ASCII byte at offset ${at}; cli/load-main.ts reads it as latin1`);
    process.exit(1);
  }
}
// 2. The entry (dist/cli/flightdeck.mjs, what bin/flightdeck.js runs): answers `--version` itself and loads
//    the commands bundle only for a command (or the module tree, dist/cli/main.js, with FLIGHTDECK_CLI_BUNDLE=0).
step('esbuild (cli entry)', bin('esbuild'), [
  'dist/cli/bin.js',
  ...common,
  '--format=esm',
  '--outfile=dist/cli/flightdeck.mjs',
  '--external:./main.js',
  `--alias:node:process=${path.join(root, 'scripts/shims/node-process.cjs')}`,
]);
// 3. The code cache: one training command (inspect of a small module) in a throwaway home, after which the
//    loader stores what V8 compiled (dist/cli/flightdeck-main.cjs.v8cache). Build output, never written at run time.
{
  const started = Date.now();
  const home = mkdtempSync(path.join(os.tmpdir(), 'fd-build-'));
  try {
    const wasm = path.join(home, 'train.wasm');
    // A valid module: the header and a memory section with one page.
    writeFileSync(wasm, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01]));
    const r = spawnSync(process.execPath, [path.join(root, 'dist/cli/flightdeck.mjs'), 'inspect', wasm, '--json'], {
      cwd: root,
      env: { ...process.env, FLIGHTDECK_HOME: home, FLIGHTDECK_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0) {
      process.stderr.write(r.stderr ?? '');
      console.error(`build: code cache training run failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`build: code cache ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
step('vite (renderer)', bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
step('vite (preload)', bin('vite'), ['build', '--config', 'electron/preload/vite.config.ts', '--logLevel', 'warn']);
