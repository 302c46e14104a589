import { describe, expect, it } from 'vitest';
import { checkTarget, parseByteSize, RULES } from '../../../../core/platforms/rules.js';
import { findProfiles, loadProfiles } from '../../../../core/platforms/profiles.js';
import { inspectTarget } from '../../../../core/wasm/target.js';
import { parseWasm } from '../../../../core/wasm/parser.js';
import { bytesSource } from '../../../../core/wasm/reader.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { CheckReportSchema, type InspectResult } from '../../../../core/api/contract.js';
import { buildComponent, fixture, fixtureBytes, type Fixture } from '../../../support/wasm.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const paths = resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-rules-')) });

async function check(name: Fixture, platforms: string[], annotations: Record<string, string> = {}) {
  const inspected = { ...(await inspectTarget(fixture(name))), annotations };
  const report = checkTarget(inspected, await findProfiles(paths, platforms), '0.0.0');
  expect(CheckReportSchema.parse(report)).toEqual(report);
  return report;
}
const ids = (r: Awaited<ReturnType<typeof check>>, platform: string) => r.platforms.find((p) => p.id === platform)!.findings.map((f) => f.ruleId);

describe('platform checks', () => {
  it('16 MiB of memory fits the Dreamcast; 16 MiB + one page does not', async () => {
    const fits = await check('mem-16mib', ['dreamcast']);
    expect(fits.summary).toEqual({ fits: true, errors: 0, warnings: 0, notes: 0 });
    const over = await check('mem-16mib-plus-page', ['dreamcast', 'vita']);
    expect(ids(over, 'dreamcast')).toEqual(['memory.initial-exceeds-budget']);
    expect(over.platforms.find((p) => p.id === 'vita')!.fits).toBe(true);
    expect(over.summary.fits).toBe(false);
    const f = over.platforms[0]!.findings[0]!;
    expect(f.actual).toBe(over.modules[0]!.memory.requiredBytes);
    expect(f.limit).toBe(16 * 1024 * 1024 + 65536);
    // Sizes in findings are the one byte format, with the exact count wherever it rounds (budgets compare to the byte).
    expect(f.message).toMatch(
      / needs 16\.1 MiB \(\d+ B\) \(memory 16\.1 MiB \(16842752 B\) \+ code \d+ B \+ data 0 B\), over the 16\.1 MiB \(16842752 B\) budget of /,
    );
  });

  it('shared memory fails the single-threaded Dreamcast and passes Vita', async () => {
    const r = await check('shared-memory', ['dreamcast', 'vita']);
    expect(ids(r, 'dreamcast')).toEqual(['threads.unsupported', 'feature.unsupported']);
    expect(ids(r, 'vita')).toEqual([]);
  });

  it('flags each used feature a platform does not accept, and memory64 by its own rule', async () => {
    expect(ids(await check('simd', ['dreamcast']), 'dreamcast')).toEqual(['feature.unsupported']);
    expect(ids(await check('simd', ['v6r-small']), 'v6r-small')).toEqual([]);
    expect(ids(await check('memory64', ['vita', 'v6r-large']), 'vita')).toEqual(['memory.memory64-unsupported']);
    expect(ids(await check('memory64', ['v6r-large']), 'v6r-large')).toEqual([]);
    expect(ids(await check('bulk-memory', ['dreamcast']), 'dreamcast')).toEqual([]);
  });

  it('an unbounded maximum is an error on fixed-memory kits and a warning elsewhere', async () => {
    const r = await check('unbounded', ['dreamcast', 'v6r-small']);
    expect(r.platforms.map((p) => p.findings.map((f) => [f.ruleId, f.severity]))).toEqual([
      [['memory.unbounded-maximum', 'error']],
      [['memory.maximum-exceeds-budget', 'warning']],
    ]);
    expect(r.platforms[1]!.fits).toBe(true);
  });

  it('checks bundle annotations against the profile and the modules', async () => {
    const r = await check('shared-memory', ['vita'], { 'flight.target-platform': 'dreamcast', 'flight.memory-limit': '1GB', 'flight.cpu-threads': '1' });
    expect(ids(r, 'vita')).toEqual(['metadata.target-platform-mismatch', 'metadata.memory-limit-exceeds-platform', 'metadata.cpu-threads-below-modules']);
    const r2 = await check('mem-16mib', ['vita'], { 'flight.memory-limit': '8MB', 'flight.cpu-threads': '16' });
    expect(ids(r2, 'vita')).toEqual(['metadata.memory-limit-below-modules', 'threads.declared-exceeds-platform']);
    const r3 = await check('mem-16mib', ['dreamcast'], { 'flight.target-platform': 'dreamcast', 'flight.memory-limit': '16MB', 'flight.cpu-threads': 'one' });
    expect(r3.platforms[0]!.findings.map((f) => [f.ruleId, f.severity])).toEqual([['metadata.invalid', 'warning']]);
  });

  it('checks components: core-only kits refuse them, basic kits refuse advanced built-ins', async () => {
    const inspect = async (bytes: Buffer): Promise<InspectResult> => ({
      target: 'c.wasm',
      inputKind: 'file',
      annotations: {},
      modules: [{ path: 'c.wasm', sha256: 'sha256:0', report: await parseWasm(bytesSource(bytes), { name: 'c.wasm' }) }],
    });
    const basic = await inspect(buildComponent(fixtureBytes('mem-16mib')));
    const advanced = await inspect(buildComponent(fixtureBytes('mem-16mib'), [0x09, 0x01, 0x00, 0x00]));
    const [dreamcast, vita] = await findProfiles(paths, ['dreamcast', 'vita']);
    const coreOnly = { ...dreamcast!, profile: { ...dreamcast!.profile, componentModel: 'none' as const } };
    expect(checkTarget(basic, [dreamcast!], '0').platforms[0]!.findings).toEqual([]);
    expect(checkTarget(advanced, [dreamcast!], '0').platforms[0]!.findings.map((f) => f.ruleId)).toEqual(['component.unsupported']);
    expect(checkTarget(advanced, [vita!], '0').platforms[0]!.findings).toEqual([]);
    expect(checkTarget(basic, [coreOnly], '0').platforms[0]!.findings.map((f) => f.ruleId)).toEqual(['component.unsupported']);
    expect(checkTarget(basic, [dreamcast!], '0').modules[0]!.memory.initialBytes).toBe(16 * 1024 * 1024);
  });

  it('has unique rule ids and reads sizes the way bundles write them', async () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    expect(parseByteSize('16MB')).toBe(16 * 1024 * 1024);
    expect(parseByteSize('512 MiB')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('lots')).toBeUndefined();
    expect((await loadProfiles(paths)).map((e) => e.profile.id).sort()).toEqual(['dreamcast', 'v6r-large', 'v6r-medium', 'v6r-small', 'vita']);
  });
});
