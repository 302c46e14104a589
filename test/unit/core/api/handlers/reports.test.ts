import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../../core/api/service.js';
import { resolvePaths } from '../../../../../core/config/paths.js';
import { fixture } from '../../../../support/wasm.js';
import { assertCheckReport, assertJUnit, assertSarif } from '../../../../support/report-schemas.js';

// check.export through dispatch, on a real check of a real WASM fixture, validated by the formats' own schemas.
const handlers = createHandlers({ probes: [], paths: resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-export-')) }) });

describe('check.export', () => {
  it('renders the report as JSON, SARIF and JUnit that validate, with a file name for each', async () => {
    const checked = await dispatch(handlers, 'wasm.check', { target: fixture('shared-memory'), platforms: ['dreamcast'] });
    if (!checked.ok) throw new Error(checked.error.message);
    const out: Record<string, { filename: string; mediaType: string; content: string }> = {};
    for (const format of ['json', 'sarif', 'junit'] as const) {
      const r = await dispatch(handlers, 'check.export', { report: checked.value, format });
      if (!r.ok) throw new Error(r.error.message);
      out[format] = r.value as (typeof out)[string];
    }
    assertCheckReport(JSON.parse(out.json!.content));
    expect(JSON.parse(out.json!.content)).toEqual(checked.value);
    assertSarif(JSON.parse(out.sarif!.content));
    assertJUnit(out.junit!.content);
    expect(out.json!.filename).toMatch(/^flightdeck-check-[\w.-]+\.json$/);
    expect(out.sarif!.filename).toMatch(/\.sarif$/);
    expect(out.junit!.filename).toMatch(/\.junit\.xml$/);
  });

  it('refuses a report that is not a check report', async () => {
    const r = await dispatch(handlers, 'check.export', { report: { schema: 'nope' }, format: 'json' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});
