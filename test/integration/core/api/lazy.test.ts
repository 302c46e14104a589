import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AREA_METHODS, areaOf, type Area } from '../../../../core/api/areas.js';
import { METHODS } from '../../../../core/api/contract.js';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createLazyApi } from '../../../../core/api/lazy.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { fixture } from '../../../support/wasm.js';
import { tempHome } from '../../../support/cli.js';

// The CLI's api (core/api/lazy.ts: one area's schemas and handlers, loaded on its first call) against the
// one every other transport uses (dispatch over createHandlers): same envelopes for the same calls, on
// real files, and only the areas called are loaded.

const CONTRACTS: Record<Area, () => Promise<Record<string, unknown>>> = {
  app: async () => (await import('../../../../core/api/contracts/app.js')).appContract,
  credentials: async () => (await import('../../../../core/api/contracts/credentials.js')).credentialsContract,
  deploy: async () => (await import('../../../../core/api/contracts/deploy.js')).deployContract,
  emulators: async () => (await import('../../../../core/api/contracts/emulators.js')).emulatorsContract,
  files: async () => (await import('../../../../core/api/contracts/files.js')).filesContract,
  kits: async () => (await import('../../../../core/api/contracts/kits.js')).kitsContract,
  lab: async () => (await import('../../../../core/api/contracts/lab.js')).labContract,
  oci: async () => (await import('../../../../core/api/contracts/oci.js')).ociContract,
  reports: async () => (await import('../../../../core/api/contracts/reports.js')).reportsContract,
  sources: async () => (await import('../../../../core/api/contracts/sources.js')).sourcesContract,
  wasm: async () => (await import('../../../../core/api/contracts/wasm.js')).wasmContract,
};

function setup() {
  const home = tempHome();
  const paths = resolvePaths({ FLIGHTDECK_HOME: home });
  return { paths, lazy: createLazyApi({ probes: [], paths }), handlers: createHandlers({ probes: [], paths }) };
}

describe('api areas (core/api/areas.ts)', () => {
  it('lists each method under the area whose contract declares it, every method once', async () => {
    for (const area of Object.keys(AREA_METHODS) as Area[]) {
      expect([...AREA_METHODS[area]].sort(), area).toEqual(Object.keys(await CONTRACTS[area]()).sort());
    }
    const listed = Object.values(AREA_METHODS).flat();
    expect(listed.sort()).toEqual([...METHODS].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('has no area for names the api does not have, prototype names included', () => {
    for (const m of ['nope', 'toString', '__proto__', 'constructor', 42, undefined]) expect(areaOf(m)).toBeUndefined();
    expect(areaOf('wasm.inspect')).toBe('wasm');
    expect(areaOf('registry.test')).toBe('app');
  });
});

describe('the lazy api (the CLI)', () => {
  it('answers as dispatch does: values, input errors, handler errors, unknown methods', async () => {
    const { lazy, handlers } = setup();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-lazy-'));
    const notWasm = path.join(dir, 'not.wasm');
    writeFileSync(notWasm, 'not a module');
    const calls: Array<[unknown, unknown]> = [
      ['wasm.inspect', { target: fixture('simd') }],
      ['wasm.check', { target: fixture('simd'), platforms: ['dreamcast', 'vita'] }],
      ['wasm.inspect', { target: notWasm }],
      ['wasm.inspect', { target: path.join(dir, 'missing.wasm') }],
      ['wasm.inspect', { target: 7 }],
      ['wasm.check', { target: fixture('simd'), platforms: [] }],
      ['platforms.list', {}],
      ['cache.list', {}],
      ['receipts.list', {}],
      ['nope.nothing', {}],
      ['toString', {}],
    ];
    for (const [method, input] of calls) {
      const viaDispatch = await dispatch(handlers, method, input);
      const viaLazy = await lazy.call(method, input);
      expect(viaLazy, `${String(method)} ${JSON.stringify(input)}`).toEqual(viaDispatch);
    }
    // Not trivially equal: a value, an input error and a handler error are among them.
    expect((await lazy.call('wasm.inspect', { target: fixture('simd') })).ok).toBe(true);
    expect(await lazy.call('wasm.inspect', { target: 7 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('target') },
    });
    expect(await lazy.call('wasm.inspect', { target: notWasm })).toMatchObject({ ok: false, error: { code: 'WASM_MALFORMED' } });
  });

  it('loads only the areas it was asked for', async () => {
    const { lazy } = setup();
    expect(lazy.loaded()).toEqual([]);
    await lazy.call('wasm.inspect', { target: fixture('simd') });
    expect(lazy.loaded()).toEqual(['wasm']);
    await lazy.call('platforms.list', {});
    expect(lazy.loaded()).toEqual(['wasm']);
    await lazy.call('cache.list', {});
    expect(lazy.loaded().sort()).toEqual(['oci', 'wasm']);
    await lazy.call('nope', {});
    expect(lazy.loaded().sort()).toEqual(['oci', 'wasm']);
  });
});
