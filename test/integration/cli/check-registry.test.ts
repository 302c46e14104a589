import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

// `check` and `inspect` of a registry reference: the demo kit's bundles published to a real
// docker-registry by skopeo (an independent client), pulled through the verified content store.
let registry: TestRegistry;
const KIT = path.join(ROOT, 'assets', 'demo-kit');

beforeAll(async () => {
  registry = await startRegistry();
  for (const p of ['dreamcast', 'vita']) {
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${KIT}:flight/shared-types/bundles/${p}:latest`,
      `docker://${registry.host}/flight/shared-types/bundles/${p}:2026.11.01`,
    ]);
  }
});
afterAll(() => registry?.stop());

describe('check REF from a registry', () => {
  it('the Dreamcast bundle fits Dreamcast (exit 0); its modules are read from the pulled bundle', async () => {
    const home = tempHome();
    const r = await runCli(['check', `${registry.host}/flight/shared-types/bundles/dreamcast:2026.11.01`, '--platform', 'dreamcast', '--format', 'json'], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { summary: { fits: boolean }; inputKind: string; modules: Array<{ path: string }> };
    expect(report.summary.fits).toBe(true);
    expect(report.inputKind).toBe('oci-layout');
    expect(report.modules.map((m) => path.basename(m.path)).sort()).toEqual(['flight-error-codes.wasm', 'flight-memory-validation.wasm']);
    // A second check of the same reference reuses the store (the pull skips blobs it already holds).
    const again = await runCli(['check', `${registry.host}/flight/shared-types/bundles/dreamcast:2026.11.01`, '--platform', 'dreamcast'], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(again.code).toBe(0);
  });

  it('the Vita bundle fails Dreamcast (exit 1) with the threads, SIMD, memory and metadata rules', async () => {
    const r = await runCli(['check', `${registry.host}/flight/shared-types/bundles/vita:2026.11.01`, '--platform', 'dreamcast', '--format', 'json'], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { platforms: Array<{ id: string; fits: boolean; findings: Array<{ ruleId: string }> }> };
    expect(report.platforms.map((p) => [p.id, p.fits])).toEqual([['dreamcast', false]]);
    const rules = new Set(report.platforms[0]!.findings.map((f) => f.ruleId));
    for (const rule of ['threads.unsupported', 'feature.unsupported', 'memory.initial-exceeds-budget', 'metadata.target-platform-mismatch']) {
      expect(rules, rule).toContain(rule);
    }
  });

  it('a reference that does not exist is a registry NOT_FOUND, exit 2 for check', async () => {
    const r = await runCli(['check', `${registry.host}/flight/shared-types/bundles/nope:1`, '--platform', 'vita'], { env: { FLIGHTDECK_HOME: tempHome() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[NOT_FOUND\]/);
  });
});
