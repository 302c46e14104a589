import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../../core/api/service.js';
import { resolvePaths } from '../../../../../core/config/paths.js';
import { CROSS_CHECK_OFF_NOTE } from '../../../../../core/wasm/notes.js';
import { engineRejectedModule, fixture } from '../../../../support/wasm.js';

// wasm.inspect leaves the engine cross-check to `engineCheck`; wasm.check always runs it. Through dispatch,
// as every front end calls them, on a module only the engine can tell is invalid.
const handlers = createHandlers({ probes: [], paths: resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-wasm-api-')) }) });
const illTyped = path.join(mkdtempSync(path.join(os.tmpdir(), 'fd-wasm-api-')), 'ill-typed.wasm');
writeFileSync(illTyped, engineRejectedModule());

describe('wasm.inspect and the engine cross-check', () => {
  it('without engineCheck: the decoder’s report, validation not run, with the note saying so', async () => {
    const r = await dispatch(handlers, 'wasm.inspect', { target: illTyped });
    if (!r.ok) throw new Error(r.error.message);
    const report = (r.value as { modules: Array<{ report: { validation: unknown; functions: { defined: number } } }> }).modules[0]!.report;
    expect(report.validation).toEqual({ checked: false, valid: null, engine: expect.stringMatching(/^V8 /), note: CROSS_CHECK_OFF_NOTE });
    expect(report.functions.defined).toBe(1);
  });

  it('with engineCheck: the engine judges it (valid, or WASM_MALFORMED naming its rejection)', async () => {
    const bad = await dispatch(handlers, 'wasm.inspect', { target: illTyped, engineCheck: true });
    expect(bad).toMatchObject({ ok: false, error: { code: 'WASM_MALFORMED', message: expect.stringContaining('rejects the module') } });
    const good = await dispatch(handlers, 'wasm.inspect', { target: fixture('simd'), engineCheck: true });
    expect(good).toMatchObject({ ok: true, value: { modules: [{ report: { validation: { checked: true, valid: true } } }] } });
    const off = await dispatch(handlers, 'wasm.inspect', { target: fixture('simd'), engineCheck: false });
    expect(off).toMatchObject({ ok: true, value: { modules: [{ report: { validation: { checked: false, note: CROSS_CHECK_OFF_NOTE } } }] } });
  });

  it('wasm.check always cross-checks', async () => {
    const r = await dispatch(handlers, 'wasm.check', { target: illTyped, platforms: ['vita'] });
    expect(r).toMatchObject({ ok: false, error: { code: 'WASM_MALFORMED', message: expect.stringContaining('rejects the module') } });
  });

  it('refuses an engineCheck that is not a boolean (INVALID_INPUT naming the field)', async () => {
    const r = await dispatch(handlers, 'wasm.inspect', { target: illTyped, engineCheck: 'yes' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining('engineCheck') } });
  });
});
