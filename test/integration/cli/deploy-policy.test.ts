import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_FILE } from '../../../core/kits/signatures.js';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { cosignKey, cosignSign } from '../../support/cosign.js';
import { activePayload, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { readLayout } from '../../support/oci-layout.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

// `deploy REF` under a signature policy: a signed bundle flashes, an unsigned one is refused before any
// device work, and after `kit import` the signed one flashes with --offline while the registry is gone.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const VERSION = '2026.11.01';
const digest = (r: string) => readLayout(DEMO).refs.find((x) => x.name === `flight/shared-types/${r}:${VERSION}`)!.digest;
const release = cosignKey();
let registry: TestRegistry;
let emu: EmulatorProcess;
let stopped = false;
const dir = stateDir();
const home = tempHome();

function withPolicy(h: string): void {
  mkdirSync(path.join(h, 'config'), { recursive: true });
  writeFileSync(
    path.join(h, 'config', POLICY_FILE),
    JSON.stringify({ keys: { release: release.publicPem }, rules: [{ repository: 'flight/shared-types/bundles/*', keys: ['release'] }] }),
  );
}

beforeAll(async () => {
  registry = await startRegistry();
  for (const r of ['manifest', 'bundles/dreamcast', 'bundles/vita', 'wasm/memory-validation', 'wasm/error-codes', 'wasm/complete', 'interfaces/wit']) {
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${DEMO}:flight/shared-types/${r}:${VERSION}`,
      `docker://${registry.host}/flight/shared-types/${r}:${VERSION}`,
    ]);
  }
  await cosignSign(registry.host, 'flight/shared-types/bundles/dreamcast', digest('bundles/dreamcast'), release);
  withPolicy(home);
  emu = await spawnEmulator(['--platform', 'dreamcast', '--listen', 'tcp://127.0.0.1:0', '--state', dir], { FLIGHTDECK_HOME: home });
});
afterAll(async () => {
  await emu?.stop();
  if (!stopped) await registry?.stop();
});

describe('deploy under a signature policy', () => {
  it('flashes a signed bundle and refuses an unsigned one with SIGNATURE_REQUIRED, sending nothing', async () => {
    const ok = await runCli(['deploy', `${registry.host}/flight/shared-types/bundles/dreamcast:${VERSION}`, '--device', emu.uri], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(ok.code, ok.stderr).toBe(0);
    const active = activePayload(dir);
    expect(active).not.toBeNull();
    const refused = await runCli(['deploy', `${registry.host}/flight/shared-types/bundles/vita:${VERSION}`, '--device', emu.uri], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(refused.stderr).toContain('error[SIGNATURE_REQUIRED]');
    expect(activePayload(dir)).toEqual(active);
  });

  it('flashes from an imported kit with --offline after the registry is gone', async () => {
    const kit = path.join(tempHome(), 'lab.tar');
    const build = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', `${registry.host}/flight/shared-types`, '--tag', VERSION, '-o', kit], {
      env: { FLIGHTDECK_HOME: tempHome() },
    });
    expect(build.code, build.stderr).toBe(0);
    const lab = tempHome();
    withPolicy(lab);
    expect((await runCli(['kit', 'import', kit], { env: { FLIGHTDECK_HOME: lab } })).code).toBe(0);
    await registry.stop();
    stopped = true;
    const before = activePayload(dir);
    const r = await runCli(
      ['deploy', `${registry.host}/flight/shared-types/bundles/dreamcast:${VERSION}`, '--module', 'flight-error-codes', '--offline', '--device', emu.uri],
      {
        env: { FLIGHTDECK_HOME: lab },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(activePayload(dir)).not.toEqual(before); // a different module of the bundle is now active
  });
});
