import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CODE_CACHE_SUFFIX, MAIN_BUNDLE } from '../../../cli/load-main.js';
import { ROOT, runCli, tempHome } from '../../support/cli.js';

// The built CLI loads its commands from one CommonJS bundle with V8's code cache (cli/load-main.ts,
// scripts/build.mjs). These tests run the real build output: the cache the build trained is accepted by the
// same Node, the bundle and the module tree give the same answers, and a damaged cache costs nothing but time.
const BUNDLE = path.join(ROOT, 'dist', 'cli', MAIN_BUNDLE);
// A valid module: the header and a memory section with one page.
const MODULE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01]);

function smallModule(): { home: string; wasm: string } {
  const home = tempHome();
  const wasm = path.join(home, 'small.wasm');
  writeFileSync(wasm, MODULE);
  return { home, wasm };
}

describe('CLI start-up: the commands bundle and its code cache', () => {
  it('the build’s code cache is accepted by this Node, and the bundle answers as the module tree does', async () => {
    const { home, wasm } = smallModule();
    const env = { FLIGHTDECK_HOME: home, FLIGHTDECK_CODE_CACHE_REPORT: '1' };
    const bundled = await runCli(['inspect', wasm, '--json'], { env });
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.stderr).toContain('code cache: accepted');
    const tree = await runCli(['inspect', wasm, '--json'], { env: { ...env, FLIGHTDECK_CLI_BUNDLE: '0' } });
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stderr).not.toContain('code cache');
    expect(JSON.parse(tree.stdout)).toEqual(JSON.parse(bundled.stdout));
    expect(JSON.parse(bundled.stdout)).toMatchObject({ modules: [{ report: { kind: 'module', memories: [{ initial: 1 }] } }] });
    // --version never loads the commands (nor reports a cache).
    const version = await runCli(['--version'], { env });
    expect(version.stderr).toBe('');
  });

  it('a cache that is garbage, truncated or missing is rejected or skipped, and the commands still load and run', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-cache-'));
    const garbage = path.join(dir, 'garbage');
    writeFileSync(garbage, Buffer.alloc(4096, 0xa5));
    const truncated = path.join(dir, 'truncated');
    const real = readFileSync(`${BUNDLE}${CODE_CACHE_SUFFIX}`);
    writeFileSync(truncated, real.subarray(0, Math.floor(real.length / 2)));
    const flipped = path.join(dir, 'flipped');
    copyFileSync(`${BUNDLE}${CODE_CACHE_SUFFIX}`, flipped);
    const bytes = readFileSync(flipped);
    bytes[8] = bytes[8]! ^ 0xff; // in the header V8 checks (source hash / flags)
    writeFileSync(flipped, bytes);
    // Each in a process of its own: V8 keeps compiled scripts in an in-memory cache per isolate, so a second
    // compile of the same source in one process never looks at the cache data it is given.
    const loader = pathToFileURL(path.join(ROOT, 'dist', 'cli', 'load-main.js')).href;
    for (const [cache, state] of [
      [garbage, 'rejected'],
      [truncated, 'rejected'],
      [flipped, 'rejected'],
      [path.join(dir, 'absent'), 'absent'],
      [undefined, 'disabled'],
    ] as const) {
      const script = `const { loadBundle } = await import(${JSON.stringify(loader)}); const r = loadBundle(${JSON.stringify(BUNDLE)}, ${cache === undefined ? 'undefined' : JSON.stringify(cache)}); console.log(r.state, typeof r.main.run);`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(out.trim(), String(cache)).toBe(`${state} function`);
    }
  });

  it('inspect of a local module runs only the wasm area: no other contract, no registry settings, emulator or web host', () => {
    // esbuild runs a lazily imported module's body through its `__esm` helper: record each one run, in a
    // copy of the real bundle beside it (so its requires resolve as the real one's do).
    const bundle = readFileSync(BUNDLE, 'latin1');
    const helper = 'var __esm=(fn,res,err)=>function(){if(err)throw err[0];';
    expect(bundle, 'esbuild’s lazy-init helper changed shape: update this test').toContain(helper);
    const traced = path.join(ROOT, 'dist', 'cli', `.trace-${process.pid}.cjs`);
    writeFileSync(traced, bundle.replace(helper, `${helper}if(fn)(globalThis.__fdInits??=[]).push(__getOwnPropNames(fn)[0]);`), 'latin1');
    const { home, wasm } = smallModule();
    try {
      const loader = pathToFileURL(path.join(ROOT, 'dist', 'cli', 'load-main.js')).href;
      const script = [
        `const { loadBundle } = await import(${JSON.stringify(loader)});`,
        `const { main } = loadBundle(${JSON.stringify(traced)}, undefined);`,
        `const sink = { write: () => true };`,
        `const code = await main.run(['inspect', ${JSON.stringify(wasm)}, '--json'], { stdout: sink, stderr: sink, env: { ...process.env, FLIGHTDECK_HOME: ${JSON.stringify(home)} } });`,
        `console.log(JSON.stringify({ code, inits: globalThis.__fdInits ?? [] }));`,
      ].join('\n');
      const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { code: number; inits: string[] };
      expect(out.code).toBe(0);
      // The tracing works: the wasm area's contract, schemas and handlers ran.
      expect(out.inits).toEqual(expect.arrayContaining(['dist/core/api/contracts/wasm.js', 'dist/core/wasm/schema.js', 'dist/core/api/handlers/wasm.js']));
      const contracts = out.inits.filter((m) => m.startsWith('dist/core/api/contracts/'));
      expect(contracts.sort()).toEqual(['dist/core/api/contracts/events.js', 'dist/core/api/contracts/wasm.js']);
      for (const never of [
        'dist/core/api/contract.js',
        'dist/core/api/service.js',
        'dist/core/registries/schema.js',
        'dist/core/config/config.js',
        'dist/core/deploy/schema.js',
        'dist/core/lab/schema.js',
        'dist/core/kits/schema.js',
        'dist/core/oci/schema.js',
        'dist/emulator/emulator.js',
        'dist/cli/serve/web-host.js',
      ]) {
        expect(out.inits, never).not.toContain(never);
      }
    } finally {
      rmSync(traced, { force: true });
    }
  });
});
