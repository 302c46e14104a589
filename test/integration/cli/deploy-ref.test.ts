import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { readLayout } from '../../support/oci-layout.js';

// deploy REF: a bundle published to a real docker-registry by skopeo, pulled through the verified
// content store, checked against the device's profile, flashed to a real emulator process.
const KIT = path.join(ROOT, 'assets', 'demo-kit');
const home = tempHome();
const env = { FLIGHTDECK_HOME: home };
const dir = stateDir();
let registry: TestRegistry;
let emu: EmulatorProcess;

/** A module's bytes, read from the demo kit's own bundle (an independent reading of the tar). */
function bundleModule(platform: string, module: string): Buffer {
  const kit = readLayout(KIT);
  const layer = kit.manifest(`flight/shared-types/bundles/${platform}:latest`).layers[0]!;
  const tar = gunzipSync(kit.blob(layer.digest));
  const want = `${platform}/wasm/flight-${module}.wasm`;
  for (let off = 0; off + 512 <= tar.length;) {
    const name = tar
      .subarray(off, off + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '');
    const size = parseInt(
      tar
        .subarray(off + 124, off + 136)
        .toString('ascii')
        .replace(/\0.*$/s, '')
        .trim() || '0',
      8,
    );
    if (name === want) return tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no ${want}`);
}

beforeAll(async () => {
  registry = await startRegistry();
  for (const p of ['vita', 'dreamcast']) {
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${KIT}:flight/shared-types/bundles/${p}:latest`,
      `docker://${registry.host}/flight/shared-types/bundles/${p}:2026.11.01`,
    ]);
  }
  emu = await spawnEmulator(['--platform', 'dreamcast', '--listen', 'tcp://127.0.0.1:0', '--state', dir], env);
});
afterAll(async () => {
  await emu?.stop();
  await registry?.stop();
});

describe('deploy REF', () => {
  it('pulls a registry bundle, picks the named module, and commits it byte for byte', async () => {
    const ref = `${registry.host}/flight/shared-types/bundles/dreamcast:2026.11.01`;
    const r = await runCli(['deploy', ref, '--module', 'flight-error-codes', '--device', emu.uri, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const want = bundleModule('dreamcast', 'error-codes');
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'committed', size: want.length });
    expect(activePayload(dir)).toEqual(want);
    expect(createHash('sha256').update(activePayload(dir)!).digest('hex')).toBe(createHash('sha256').update(want).digest('hex'));
    // The receipt links the registry's manifest digest (read independently with skopeo) to the payload and to the device's own hash.
    const manifest = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    const payloadSha = createHash('sha256').update(want).digest('hex');
    expect(JSON.parse(r.stdout).receipt).toMatchObject({
      source: {
        reference: expect.stringContaining('flight/shared-types/bundles/dreamcast:2026.11.01'),
        manifestDigest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
      },
      payload: { sha256: payloadSha },
      reported: { sha256: payloadSha, matches: true },
      device: { uri: emu.uri, platform: 'dreamcast' },
    });
  });

  it('deploys straight from an OCI layout reference (the demo kit), offline', async () => {
    const r = await runCli(['deploy', `oci:${KIT}:flight/shared-types/bundles/dreamcast:latest`, '--module', 'flight-memory-validation', '--device', emu.uri], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(activePayload(dir)).toEqual(bundleModule('dreamcast', 'memory-validation'));
  });

  it('refuses a Vita bundle on the Dreamcast kit, and a threaded module by the platform check, before sending a byte', async () => {
    const before = activePayload(dir);
    const bundle = await runCli(['deploy', `${registry.host}/flight/shared-types/bundles/vita:2026.11.01`, '--device', emu.uri], { env });
    expect(bundle.stderr).toContain('error[DEVICE_PLATFORM_MISMATCH]');
    const module = await runCli(['deploy', `oci:${KIT}:flight/shared-types/wasm/session-threads:latest`, '--device', emu.uri], { env });
    expect(module.code).not.toBe(0);
    expect(module.stderr).toContain('error[PAYLOAD_CHECK_FAILED]');
    expect(module.stderr).toMatch(/threads\.unsupported/);
    expect(activePayload(dir)).toEqual(before);
  });

  it('a reference with no deployable layer is PAYLOAD_INVALID naming it', async () => {
    const r = await runCli(['deploy', `oci:${KIT}:flight/shared-types/interfaces/wit:latest`, '--device', emu.uri], { env });
    expect(r.stderr).toContain('error[PAYLOAD_INVALID]');
    expect(r.stderr).toContain('interfaces/wit');
  });
});
