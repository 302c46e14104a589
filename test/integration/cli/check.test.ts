import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../../support/cli.js';
import { engineRejectedModule, fixture, fixtureBytes } from '../../support/wasm.js';
import { tarGz } from '../../support/tar.js';
import { ociLayout } from '../../support/oci-layout.js';
import { assertCheckReport, assertJUnit, assertSarif } from '../../support/report-schemas.js';

const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const cli = (...args: string[]) => runCli(args, { env });
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-check-'));

describe('flightdeck check', () => {
  it('exits 0 when it fits, 1 when a rule fails, with a memory bar per module', async () => {
    const ok = await cli('check', fixture('mem-16mib'), '--platform', 'dreamcast');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✔ fits');
    expect(ok.stdout).toMatch(/mem-16mib\.wasm\s+\[#{30}\]\s+100%/);
    const over = await cli('check', fixture('mem-16mib-plus-page'), '-p', 'dreamcast', '-p', 'vita');
    expect(over.code).toBe(1);
    expect(over.stdout).toContain('memory.initial-exceeds-budget');
    expect(over.stdout).toMatch(/\[#{30}\]!/);
    const shared = await cli('check', fixture('shared-memory'), '-p', 'vita');
    expect(shared.code).toBe(0);
  });

  it('exits 2 for bad input and usage: malformed module, unknown platform, missing --platform, bad bundle', async () => {
    const dir = tmp();
    const bad = path.join(dir, 'bad.wasm');
    writeFileSync(bad, fixtureBytes('simd').subarray(0, 30));
    const malformed = await cli('check', bad, '-p', 'vita');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/error\[WASM_MALFORMED\]: .*bad\.wasm: .* at byte offset \d+/);
    const unknown = await cli('check', fixture('simd'), '-p', 'gameboy');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error[PLATFORM_UNKNOWN]');
    expect((await cli('check', fixture('simd'))).code).toBe(2);
    const evil = path.join(dir, 'evil.tar.gz');
    writeFileSync(evil, tarGz([{ name: '../../x.wasm', body: fixtureBytes('simd') }]));
    const unsafe = await cli('check', evil, '-p', 'vita', '--json');
    expect(unsafe.code).toBe(2);
    expect(JSON.parse(unsafe.stdout).error).toMatchObject({ code: 'BUNDLE_MALFORMED', details: { offset: 0 } });
  });

  it('writes SARIF and JUnit reports atomically to --output, valid against their schemas', async () => {
    const dir = tmp();
    const bundle = path.join(dir, 'dreamcast.tar.gz');
    writeFileSync(
      bundle,
      tarGz([
        {
          name: 'manifest.json',
          body: JSON.stringify({ annotations: { 'flight.target-platform': 'dreamcast', 'flight.memory-limit': '16MB', 'flight.cpu-threads': '1' } }),
        },
        { name: 'app.wasm', body: fixtureBytes('mem-16mib') },
        { name: 'worker.wasm', body: fixtureBytes('shared-memory') },
      ]),
    );
    const sarifFile = path.join(dir, 'out.sarif');
    const r = await cli('check', bundle, '-p', 'dreamcast', '--format', 'sarif', '--output', sarifFile);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('report written to');
    const sarif = JSON.parse(readFileSync(sarifFile, 'utf8'));
    assertSarif(sarif);
    expect(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual([
      'threads.unsupported',
      'feature.unsupported',
      'metadata.cpu-threads-below-modules',
    ]);
    const junit = await cli('check', bundle, '-p', 'dreamcast', '-p', 'vita', '--format', 'junit');
    expect(junit.code).toBe(1);
    const tree = assertJUnit(junit.stdout);
    expect(tree.children).toHaveLength(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('checks an OCI image layout with its manifest annotations', async () => {
    const dir = tmp();
    ociLayout(dir, '2025.06.06', [{ mediaType: 'application/vnd.wasm.content.layer.v1+wasm', bytes: fixtureBytes('mem-16mib'), title: 'complete.wasm' }], {
      'flight.target-platform': 'dreamcast',
      'flight.memory-limit': '16MB',
      'flight.cpu-threads': '1',
    });
    const fits = await cli('check', `oci:${dir}:2025.06.06`, '-p', 'dreamcast', '--json');
    expect(fits.code).toBe(0);
    expect(JSON.parse(fits.stdout)).toMatchObject({ inputKind: 'oci-layout', modules: [{ path: 'complete.wasm' }], summary: { fits: true } });
    const vita = await cli('check', `oci:${dir}:2025.06.06`, '-p', 'vita');
    expect(vita.code).toBe(1);
    expect(vita.stdout).toContain('metadata.target-platform-mismatch');
    expect((await cli('check', `oci:${dir}:nope`, '-p', 'vita')).code).toBe(2);
  });

  it('prints the versioned JSON report with --json and --format json', async () => {
    const a = await cli('check', fixture('simd'), '-p', 'dreamcast', '--json');
    const b = await cli('check', fixture('simd'), '-p', 'dreamcast', '--format', 'json');
    expect(a.code).toBe(1);
    const report = JSON.parse(a.stdout);
    assertCheckReport(report);
    expect(report.schema).toBe('flightdeck.check-report/v1');
    expect(JSON.parse(b.stdout)).toEqual(report);
    expect((await cli('check', fixture('simd'), '-p', 'dreamcast', '--json', '--format', 'junit')).code).toBe(2);
  });
});

describe('flightdeck inspect and platforms', () => {
  it('inspects a module as text and JSON', async () => {
    const text = await cli('inspect', fixture('wasi-threads'));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('threads: shared memory, wasi.thread-spawn');
    const json = JSON.parse((await cli('inspect', fixture('simd'), '--json')).stdout);
    expect(json.modules[0].report.features).toEqual(['simd']);
    const bad = await cli('inspect', '/nonexistent.wasm');
    expect(bad.code).toBe(3);
  });

  it('runs the engine cross-check only with --engine-check (check always does)', async () => {
    const text = await cli('inspect', fixture('simd'));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('engine cross-check: not run (--engine-check runs it)');
    const json = JSON.parse((await cli('inspect', fixture('simd'), '--json')).stdout);
    expect(json.modules[0].report.validation).toEqual({
      checked: false,
      valid: null,
      engine: expect.stringMatching(/^V8 /),
      note: expect.stringContaining('not requested'),
    });
    const checked = await cli('inspect', fixture('simd'), '--engine-check');
    expect(checked.stdout).toMatch(/engine cross-check: valid \(V8 [^)]+\)/);
    const checkedJson = JSON.parse((await cli('inspect', fixture('simd'), '--engine-check', '--json')).stdout);
    expect(checkedJson.modules[0].report.validation).toMatchObject({ checked: true, valid: true });
    expect(checkedJson.modules[0].report.validation.note).toBeUndefined();

    // A module only the engine can tell is invalid: inspect reports it, --engine-check and check refuse it.
    const illTyped = path.join(tmp(), 'ill-typed.wasm');
    writeFileSync(illTyped, engineRejectedModule());
    const reported = await cli('inspect', illTyped, '--json');
    expect(reported.code).toBe(0);
    expect(JSON.parse(reported.stdout).modules[0].report.validation).toMatchObject({ checked: false, valid: null });
    const refused = await cli('inspect', illTyped, '--engine-check', '--json');
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'WASM_MALFORMED', message: expect.stringContaining('rejects the module') });
    const checkRefused = await cli('check', illTyped, '-p', 'vita');
    expect(checkRefused.code).toBe(2);
    expect(checkRefused.stderr).toMatch(/error\[WASM_MALFORMED\]: .*rejects the module/);
    expect((await cli('inspect', '--help')).stdout).toContain('--engine-check');
  });

  it('lists built-in platforms and a user profile from the config dir', async () => {
    const userHome = tempHome();
    mkdirSync(path.join(userHome, 'config', 'platforms'), { recursive: true });
    const custom = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../../assets/platforms/dreamcast.json'), 'utf8'));
    writeFileSync(
      path.join(userHome, 'config', 'platforms', 'naomi.json'),
      JSON.stringify({ ...custom, id: 'naomi', name: 'Sega NAOMI', memory: { total: 64 * 2 ** 20, runtimeReserve: 2 ** 24, fixed: true } }),
    );
    const list = await runCli(['platforms', '--json'], { env: { FLIGHTDECK_HOME: userHome } });
    const ids = JSON.parse(list.stdout).platforms.map((e: { profile: { id: string } }) => e.profile.id);
    expect(ids).toEqual(['dreamcast', 'v6r-large', 'v6r-medium', 'v6r-small', 'vita', 'naomi']);
    const fits = await runCli(['check', fixture('mem-16mib-plus-page'), '-p', 'naomi'], { env: { FLIGHTDECK_HOME: userHome } });
    expect(fits.code).toBe(0);
    writeFileSync(path.join(userHome, 'config', 'platforms', 'broken.json'), '{"id":"x"}');
    const broken = await runCli(['platforms'], { env: { FLIGHTDECK_HOME: userHome } });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain('error[CONFIG_INVALID]');
    expect(broken.stderr).toContain('broken.json');
  });
});
