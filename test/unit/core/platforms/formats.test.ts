import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { toJUnit, toSarif } from '../../../../core/platforms/formats.js';
import { checkTarget } from '../../../../core/platforms/rules.js';
import { findProfiles } from '../../../../core/platforms/profiles.js';
import { inspectTarget } from '../../../../core/wasm/target.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { ROOT } from '../../../support/cli.js';
import { fixture } from '../../../support/wasm.js';
import { assertCheckReport, assertJUnit, assertSarif } from '../../../support/report-schemas.js';
import { renderSchema, SCHEMA_FILES } from '../../../../scripts/wasm-schemas.js';

const paths = resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-formats-')) });

async function report() {
  const inspected = { ...(await inspectTarget(fixture('shared-memory'))), annotations: { 'flight.target-platform': 'dreamcast', 'flight.cpu-threads': '2' } };
  return checkTarget(inspected, await findProfiles(paths, ['dreamcast', 'vita', 'v6r-small']), '1.2.3');
}

describe('report formats', () => {
  it('writes SARIF 2.1.0 that validates against the OASIS schema, one result per finding', async () => {
    const r = await report();
    const sarif = toSarif(r) as { runs: Array<{ results: Array<{ ruleId: string; level: string; message: { text: string } }> }> };
    assertSarif(sarif);
    const findings = r.platforms.flatMap((p) => p.findings);
    expect(findings.length).toBeGreaterThan(2);
    expect(sarif.runs[0]!.results.map((x) => [x.ruleId, x.level])).toEqual(findings.map((f) => [f.ruleId, f.severity]));
    expect(sarif.runs[0]!.results[0]!.message.text).toMatch(/^\[dreamcast\] /);
    expect(() => assertSarif({ version: '2.1.0', runs: [{ results: [] }] })).toThrow(/tool/); // the validator does reject
  });

  it('writes JUnit XML: a suite per platform, a case per module plus bundle metadata, failures for errors', async () => {
    const r = await report();
    const tree = assertJUnit(toJUnit(r));
    expect(tree.children.map((s) => [s.attributes.name, s.attributes.tests, s.attributes.failures])).toEqual([
      ['dreamcast: Sega Dreamcast (dev kit)', '2', '2'],
      ['vita: PlayStation Vita', '2', '1'], // flight.target-platform=dreamcast
      ['v6r-small: V6R small', '2', '1'],
    ]);
    const dc = tree.children[0]!.children[0]!;
    expect(dc.children[0]!.name).toBe('failure');
    expect(dc.children[0]!.attributes.type).toBe('threads.unsupported');
    expect(() => assertJUnit('<testsuites><testsuite name="x"></testsuites>')).toThrow(/well-formed/);
    expect(() => assertJUnit('<testsuites><testsuite name="x" tests="a" failures="0" errors="0"/></testsuites>')).toThrow(/schema/);
  });

  it('produces JSON reports that validate against docs/schemas/check-report.v1.json', async () => {
    assertCheckReport(JSON.parse(JSON.stringify(await report())));
  });

  it('keeps the generated schemas in sync with the code (run `npm run docs:schemas`)', () => {
    for (const file of Object.keys(SCHEMA_FILES)) expect(readFileSync(path.join(ROOT, file), 'utf8'), file).toBe(renderSchema(file));
  });
});
