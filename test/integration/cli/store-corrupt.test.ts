import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, spawnEmulator, stateDir, type EmulatorProcess } from '../../support/emulator.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { readLayout } from '../../support/oci-layout.js';

// A blob damaged on disk in the content store (one byte flipped, same size) must never leave the store:
// every read verifies while it streams, a corrupt blob is BLOB_CORRUPT, set aside in quarantine/, and the
// next plain pull fetches it again. Real docker-registry fed by skopeo, real CLI processes, real emulator.
const KIT = path.join(ROOT, 'assets', 'demo-kit');
const WASM_REF = 'flight/shared-types/wasm/error-codes';
const BUNDLE_REF = 'flight/shared-types/bundles/dreamcast';
let registry: TestRegistry;
let emu: EmulatorProcess;
const emuDir = stateDir();

const layerOf = (ref: string) => readLayout(KIT).manifest(`${ref}:latest`).layers[0]!;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const storeRoot = (home: string) => path.join(home, 'data', 'store');
const blobFile = (home: string, digest: string) => path.join(storeRoot(home), 'blobs', 'sha256', digest.slice(7));

/** Flip one byte in the middle of a file: same size, wrong digest. */
function flipByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 0x40;
  writeFileSync(file, bytes);
}

/** A home whose store holds `ref` (pulled for real), then has the layer's blob damaged. */
async function corruptedHome(ref: string): Promise<{ home: string; env: NodeJS.ProcessEnv; digest: string; full: string }> {
  const home = tempHome();
  const env = { FLIGHTDECK_HOME: home };
  const full = `${registry.host}/${ref}:2026.11.01`;
  const pulled = await runCli(['pull', full], { env });
  expect(pulled.code, pulled.stderr).toBe(0);
  const { digest } = layerOf(ref);
  flipByte(blobFile(home, digest));
  return { home, env, digest, full };
}

/** The blob is gone from blobs/ and lies in quarantine/ with its record. */
function expectQuarantined(home: string, digest: string): void {
  expect(existsSync(blobFile(home, digest))).toBe(false);
  const q = path.join(storeRoot(home), 'quarantine');
  expect(readdirSync(q).sort()).toEqual([`sha256-${digest.slice(7)}`, `sha256-${digest.slice(7)}.json`]);
  expect(JSON.parse(readFileSync(path.join(q, `sha256-${digest.slice(7)}.json`), 'utf8'))).toMatchObject({ digest });
}

beforeAll(async () => {
  registry = await startRegistry();
  for (const ref of [WASM_REF, BUNDLE_REF]) {
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${KIT}:${ref}:latest`, `docker://${registry.host}/${ref}:2026.11.01`]);
  }
  emu = await spawnEmulator(['--platform', 'dreamcast', '--listen', 'tcp://127.0.0.1:0', '--state', emuDir]);
});
afterAll(async () => {
  await emu?.stop();
  await registry?.stop();
});

describe('a corrupt blob in the content store', () => {
  it('deploy REF refuses it (BLOB_CORRUPT), sends nothing, writes no receipt; a plain pull fetches it again and deploy works', async () => {
    const { home, env, digest, full } = await corruptedHome(WASM_REF);
    const before = activePayload(emuDir);
    const r = await runCli(['deploy', full, '--device', emu.uri], { env });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('error[BLOB_CORRUPT]');
    expect(r.stderr).toContain('flightdeck pull REF');
    expect(r.stderr).not.toMatch(/nothing was stored/);
    expect(activePayload(emuDir)).toEqual(before);
    expect(existsSync(path.join(home, 'data', 'receipts'))).toBe(false);
    expectQuarantined(home, digest);
    // cache verify reports what was set aside.
    const v = await runCli(['cache', 'verify', '--json'], { env });
    expect(JSON.parse(v.stdout)).toMatchObject({ corrupt: [], quarantined: [{ digest }] });
    // The hint is true: a plain pull downloads it again, and deploy then commits the right bytes.
    const again = await runCli(['pull', full, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ blobsDownloaded: 1 });
    expect(sha(readFileSync(blobFile(home, digest)))).toBe(digest);
    const ok = await runCli(['deploy', full, '--device', emu.uri, '--json'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).receipt).toMatchObject({ reported: { matches: true } });
    expect(sha(activePayload(emuDir)!)).toBe(digest);
  });

  it('check REF and inspect REF fail with BLOB_CORRUPT and the pull hint (the decoder never reports the damage as its own)', async () => {
    const { home, env, digest, full } = await corruptedHome(WASM_REF);
    const check = await runCli(['check', full, '--platform', 'dreamcast'], { env });
    expect(check.code).toBe(2); // check: 2 is "bad input", not a verdict on the module
    expect(check.stderr).toContain('error[BLOB_CORRUPT]');
    expect(check.stderr).toContain('flightdeck pull REF');
    expectQuarantined(home, digest);
    expect((await runCli(['pull', full], { env })).code).toBe(0);
    flipByte(blobFile(home, digest));
    const inspect = await runCli(['inspect', full], { env });
    expect(inspect.code).not.toBe(0);
    expect(inspect.stderr).toContain('error[BLOB_CORRUPT]');
    expect(existsSync(blobFile(home, digest))).toBe(false);
  });

  it('pull REF --output DIR writes no file, also with --unpack', async () => {
    for (const [ref, extra] of [
      [WASM_REF, []],
      [BUNDLE_REF, ['--unpack']],
    ] as Array<[string, string[]]>) {
      const { home, env, digest, full } = await corruptedHome(ref);
      const out = mkdtempSync(path.join(os.tmpdir(), 'fd-out-'));
      const r = await runCli(['pull', full, '--output', out, ...extra], { env });
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toContain('error[BLOB_CORRUPT]');
      expect(readdirSync(out)).toEqual([]);
      expectQuarantined(home, digest);
    }
  });

  it('a plain pull hashes a blob already there: a corrupt one nobody has read yet is fetched again', async () => {
    const { home, env, digest, full } = await corruptedHome(BUNDLE_REF);
    const r = await runCli(['pull', full, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ blobsDownloaded: 1 });
    expect(sha(readFileSync(blobFile(home, digest)))).toBe(digest);
    // An intact store is skipped as before.
    const same = await runCli(['pull', full, '--json'], { env });
    expect(JSON.parse(same.stdout)).toMatchObject({ blobsDownloaded: 0 });
  });
});

describe('a corrupt blob in an oci: folder', () => {
  it('check and deploy name the folder as damaged and leave it as it is (no quarantine there)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-layout-'));
    cpSync(KIT, dir, { recursive: true });
    const { digest } = layerOf(WASM_REF);
    const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
    flipByte(file);
    const damaged = readFileSync(file);
    const env = { FLIGHTDECK_HOME: tempHome() };
    const check = await runCli(['check', `oci:${dir}:${WASM_REF}:latest`, '--platform', 'dreamcast'], { env });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('error[BLOB_CORRUPT]');
    expect(check.stderr).toContain(`The folder ${dir} is damaged`);
    const before = activePayload(emuDir);
    const deploy = await runCli(['deploy', `oci:${dir}:${WASM_REF}:latest`, '--device', emu.uri], { env });
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toMatch(/error\[BLOB_CORRUPT\]/);
    expect(activePayload(emuDir)).toEqual(before);
    expect(readFileSync(file).equals(damaged)).toBe(true);
    expect(existsSync(path.join(dir, 'quarantine'))).toBe(false);
  });
});
