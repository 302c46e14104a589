#!/usr/bin/env node
// One build: CLI, core, native-bridge, composition, emulator and Electron main (tsc -> dist/), the renderer bundle
// (Vite -> dist/renderer) and the sandboxed preload (Vite -> dist/electron/preload/preload.cjs).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
// The CLI as a bundle (dist/cli/flightdeck.mjs, what bin/flightdeck.js runs, and its chunks): Node resolves, reads and
// compiles one file instead of a few hundred, which takes ~70 ms off every command's start-up
// (`npm run bench -- cli-startup`). Native and optional packages stay external and load from node_modules.
step('esbuild (cli bundle)', bin('esbuild'), [
  'dist/cli/bin.js',
  '--bundle',
  '--platform=node',
  '--format=esm',
  '--target=node20',
  // Split at dynamic imports: the entry (dist/cli/flightdeck.mjs) answers `--version` itself and loads the
  // commands (a chunk beside it, dist/cli/flightdeck-HASH.mjs) only for a command.
  '--splitting',
  '--outdir=dist/cli',
  '--entry-names=flightdeck',
  '--chunk-names=flightdeck-[hash]',
  '--out-extension:.js=.mjs',
  '--minify-whitespace',
  '--minify-syntax',
  '--log-level=warning',
  ...['serialport', '@serialport/*', 'usb', 'keytar', '@napi-rs/keyring', 'electron'].map((p) => `--external:${p}`),
  `--alias:node:process=${path.join(root, 'scripts/shims/node-process.cjs')}`,
  // Bundled CommonJS dependencies call require(); give the module one.
  "--banner:js=import { createRequire as __flightdeckRequire } from 'node:module'; const require = __flightdeckRequire(import.meta.url);",
]);
step('vite (renderer)', bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
step('vite (preload)', bin('vite'), ['build', '--config', 'electron/preload/vite.config.ts', '--logLevel', 'warn']);
