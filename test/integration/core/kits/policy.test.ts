import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { checkSignaturePolicy, loadPolicy } from '../../../../core/kits/signatures.js';
import { createRegistryAccess } from '../../../../core/oci/access.js';
import { parseRegistryReference } from '../../../../core/oci/reference.js';
import { ROOT, runCli, tempHome } from '../../../support/cli.js';
import { cosignKey, cosignSign } from '../../../support/cosign.js';
import { readLayout } from '../../../support/oci-layout.js';
import { startRegistry, type TestRegistry } from '../../../support/registry.js';

// checkSignaturePolicy, the call deploy makes before flashing: online against a real registry, and
// offline from a kit imported into the content store after the registry is gone.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const VERSION = '2026.11.01';
const digest = (ref: string) => readLayout(DEMO).refs.find((r) => r.name === `flight/shared-types/${ref}:${VERSION}`)!.digest;
let registry: TestRegistry;
let stopped = false;
const release = cosignKey();
const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-policy-'));
writeFileSync(
  path.join(dir, 'policy.json'),
  JSON.stringify({ keys: { release: release.publicPem }, rules: [{ repository: 'flight/shared-types/bundles/*', keys: ['release'] }] }),
);

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
});
afterAll(() => (stopped ? undefined : registry?.stop()));

describe('checkSignaturePolicy (for deploy)', () => {
  it('verifies online, refuses unsigned content, and works offline from an imported kit with the registry gone', async () => {
    const home = tempHome();
    const paths = resolvePaths({ FLIGHTDECK_HOME: home });
    const access = createRegistryAccess(paths, () => async () => undefined);
    const policy = await loadPolicy(paths, path.join(dir, 'policy.json'));
    const ref = (r: string) => parseRegistryReference(`${registry.host}/flight/shared-types/${r}:${VERSION}`);

    expect(await checkSignaturePolicy(access, policy, ref('bundles/dreamcast'), digest('bundles/dreamcast'))).toEqual({
      rule: 'flight/shared-types/bundles/*',
      verifiedBy: ['release'],
    });
    await expect(checkSignaturePolicy(access, policy, ref('bundles/vita'), digest('bundles/vita'))).rejects.toMatchObject({ code: 'SIGNATURE_REQUIRED' });
    // The signature names another digest than the one about to be flashed.
    await expect(checkSignaturePolicy(access, policy, ref('bundles/dreamcast'), digest('bundles/vita'))).rejects.toMatchObject({ code: 'SIGNATURE_REQUIRED' });
    expect(await checkSignaturePolicy(access, undefined, ref('bundles/vita'), digest('bundles/vita'))).toEqual({ rule: null, verifiedBy: [] });

    const kit = path.join(dir, 'lab.tar');
    const offlineHome = tempHome();
    expect(
      (
        await runCli(['kit', 'build', '-p', 'dreamcast', '--from', `${registry.host}/flight/shared-types`, '--tag', VERSION, '-o', kit], {
          env: { FLIGHTDECK_HOME: tempHome() },
        })
      ).code,
    ).toBe(0);
    expect((await runCli(['kit', 'import', kit], { env: { FLIGHTDECK_HOME: offlineHome } })).code).toBe(0);
    await registry.stop();
    stopped = true;
    const offline = createRegistryAccess(resolvePaths({ FLIGHTDECK_HOME: offlineHome }), () => async () => undefined);
    expect(await checkSignaturePolicy(offline, policy, ref('bundles/dreamcast'), digest('bundles/dreamcast'), { offline: true })).toMatchObject({
      verifiedBy: ['release'],
    });
    await expect(checkSignaturePolicy(offline, policy, ref('bundles/vita'), digest('bundles/vita'), { offline: true })).rejects.toMatchObject({
      code: 'SIGNATURE_REQUIRED',
    });
  });
});
