import { existsSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type * as MainModule from './main.js';

/**
 * Loading the CLI's commands with V8's code cache (issue 19, start-up).
 *
 * `npm run build` bundles `cli/main.ts` and everything it imports into one CommonJS file beside this one
 * (`flightdeck-main.cjs`), runs one training command against it, and stores the code V8 compiled for it
 * (`flightdeck-main.cjs.v8cache`). Loading the bundle through `vm.Script` with that cache skips parsing and
 * compiling most of the 1.5 MB of JavaScript on every command (Node 20 has no `module.enableCompileCache`).
 *
 * Trust: the cache is build output, written once by the build next to the code it belongs to and never at
 * run time, so it is exactly as trusted as the bundle itself. V8 checks it against the source, the V8
 * version and the flags and rejects anything that does not match (garbage, truncation, another Node); a
 * rejected cache costs only the compile it would have saved.
 */

type Main = typeof MainModule;

export const MAIN_BUNDLE = 'flightdeck-main.cjs';
export const CODE_CACHE_SUFFIX = '.v8cache';

/** What happened to the code cache of the last bundle load: for the tests and `FLIGHTDECK_CODE_CACHE_REPORT`. */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'disabled';

/**
 * The CLI's commands: from the bundle beside this file when there is one (the built CLI), else the module
 * tree (`FLIGHTDECK_CLI_BUNDLE=0`, or a plain `tsc` build). `FLIGHTDECK_CODE_CACHE=0` loads the bundle
 * without its cache (to measure what the cache saves).
 */
export async function loadMain(env: NodeJS.ProcessEnv = process.env): Promise<Main> {
  const bundle = path.join(path.dirname(fileURLToPath(import.meta.url)), MAIN_BUNDLE);
  if (env.FLIGHTDECK_CLI_BUNDLE === '0' || !existsSync(bundle)) return import('./main.js');
  const cacheFile = env.FLIGHTDECK_CODE_CACHE === '0' ? undefined : `${bundle}${CODE_CACHE_SUFFIX}`;
  const { main, state, script } = loadBundle(bundle, cacheFile);
  if (env.FLIGHTDECK_CODE_CACHE_REPORT === '1') process.stderr.write(`code cache: ${state}\n`);
  // The build's training run: store what V8 compiled for this command, once it has run.
  const write = env.FLIGHTDECK_WRITE_CODE_CACHE;
  if (write === '1') process.once('exit', () => writeAtomically(`${bundle}${CODE_CACHE_SUFFIX}`, script.createCachedData()));
  return main;
}

/** Compile and run a CommonJS bundle as Node's own loader would, with `cacheFile` as its code cache if present. */
export function loadBundle(bundle: string, cacheFile: string | undefined): { main: Main; state: CodeCacheState; script: vm.Script } {
  // ASCII (the build checks it), so latin1 gives the same string as UTF-8 without decoding 1.5 MB.
  const source = readFileSync(bundle, 'latin1');
  let cachedData: Buffer | undefined;
  if (cacheFile !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
    // `import()` of an external package inside the bundle goes to Node's own loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const state: CodeCacheState = cacheFile === undefined ? 'disabled' : !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const module = { exports: {} as Main };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return { main: module.exports, state, script };
}

function writeAtomically(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
