import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { readLayout } from '../../support/oci-layout.js';
import { tryLock } from '../../../core/oci/lock.js';
import { outputLockPath } from '../../../core/kits/output.js';

// `kit build --replace` (the GUI's "Replace"): the new kit is built and verified beside the old one and
// renamed over it; a build that fails on the way leaves the old kit byte-identical; a kit is never written
// over anything but a kit, nor while another process builds to the same output. Real CLI processes, a real
// content store, the demo kit layout as the source.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const VERSION = '2026.11.01';
const FROM = `oci:${DEMO}`;

/** Every file under `p` (or the file itself) with its bytes: a kit folder and a kit tar compare alike. */
function fingerprint(p: string): string {
  const hash = createHash('sha256');
  const walk = (at: string, rel: string) => {
    if (statSync(at).isDirectory()) for (const name of readdirSync(at).sort()) walk(path.join(at, name), `${rel}/${name}`);
    else hash.update(`${rel}\0`).update(readFileSync(at));
  };
  walk(p, '');
  return hash.digest('hex');
}

/** Flip one byte of a stored blob (same size, wrong digest): the store's verified read refuses it. */
function flip(home: string, digest: string): void {
  const file = path.join(home, 'data', 'store', 'blobs', 'sha256', digest.slice(7));
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 0x40;
  writeFileSync(file, bytes);
}

const build = (out: string, home: string, platforms: string[], extra: string[] = []) =>
  runCli(['--json', 'kit', 'build', ...platforms.flatMap((p) => ['-p', p]), '--from', FROM, '--tag', VERSION, '-o', out, ...extra], {
    env: { FLIGHTDECK_HOME: home },
  });

const errorOf = (stdout: string) => (JSON.parse(stdout) as { error: { code: string; message: string; hint: string } }).error;

describe.each([
  ['tar', 'lab.tar'],
  ['folder', 'lab-kit'],
])('kit build --replace (%s kit)', (_format, name) => {
  it('refuses an existing kit without --replace; a failed replace keeps the old kit byte-identical; a good one swaps it in', async () => {
    const home = tempHome();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-kit-replace-'));
    const out = path.join(dir, name);

    const first = await build(out, home, ['dreamcast']);
    expect(first.code, first.stderr).toBe(0);
    const old = fingerprint(out);

    // Without --replace: the CLI's own words (a flag), nothing touched.
    const again = await build(out, home, ['dreamcast', 'vita']);
    expect(again.code).toBe(3);
    const exists = errorOf(again.stdout);
    expect(exists.code).toBe('KIT_OUTPUT_EXISTS');
    expect(exists.hint).toContain('--replace');
    expect(fingerprint(out)).toBe(old);

    // A replace that fails late: the WIT layer in the store is damaged, and only the copy into the new kit
    // reads it (after the temp kit is laid out and the payloads are in it).
    const wit = readLayout(DEMO).manifest(`flight/shared-types/interfaces/wit:${VERSION}`).layers[0]!.digest;
    flip(home, wit);
    const failed = await build(out, home, ['dreamcast', 'vita'], ['--replace']);
    expect(failed.code, failed.stderr).toBe(6);
    expect(errorOf(failed.stdout).code).toBe('BLOB_CORRUPT');
    expect(fingerprint(out)).toBe(old);
    // No temp kit, aside copy or lock left beside it.
    expect(readdirSync(dir)).toEqual([name]);

    // The damaged blob was set aside: the next replace fetches it again and swaps the new kit in.
    const ok = await build(out, home, ['dreamcast', 'vita'], ['--replace']);
    expect(ok.code, ok.stderr).toBe(0);
    const result = JSON.parse(ok.stdout) as { replaced?: boolean; output: string; lock: { platforms: string[] } };
    expect(result).toMatchObject({ replaced: true, output: out, lock: { platforms: ['dreamcast', 'vita'] } });
    expect(fingerprint(out)).not.toBe(old);
    expect(readdirSync(dir)).toEqual([name]);
    const verify = await runCli(['--json', 'kit', 'verify', out], { env: { FLIGHTDECK_HOME: home } });
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checks: [{ platform: 'dreamcast' }, { platform: 'vita' }] });
  });
});

describe('kit build output safety', () => {
  it('never replaces what is not a kit, even with --replace', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-kit-replace-'));
    const file = path.join(dir, 'notes.tar');
    writeFileSync(file, 'not a kit\n'.repeat(200));
    const r1 = await build(file, tempHome(), ['dreamcast'], ['--replace']);
    expect(r1.code).toBe(3);
    expect(errorOf(r1.stdout)).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('is not a Flight Deck kit') });
    expect(readFileSync(file, 'utf8')).toBe('not a kit\n'.repeat(200));
    // A folder with anything else in it than a kit's files.
    const kit = path.join(dir, 'kit');
    expect((await build(kit, tempHome(), ['dreamcast'])).code).toBe(0);
    writeFileSync(path.join(kit, 'README.txt'), 'mine');
    const r2 = await build(kit, tempHome(), ['dreamcast'], ['--replace']);
    expect(errorOf(r2.stdout).code).toBe('INVALID_INPUT');
    expect(readFileSync(path.join(kit, 'README.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(dir).sort()).toEqual(['kit', 'notes.tar']);
  });

  it('refuses to build while another process builds to the same output (KIT_OUTPUT_BUSY), and builds once it is done', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-kit-replace-'));
    const out = path.join(dir, 'lab.tar');
    // This test process is "the other build": it holds the output's lock as a build does.
    const held = await tryLock(out, outputLockPath(out));
    expect(held).toBeDefined();
    try {
      const r = await build(out, tempHome(), ['dreamcast'], ['--replace']);
      expect(r.code).toBe(3);
      expect(errorOf(r.stdout)).toMatchObject({ code: 'KIT_OUTPUT_BUSY', message: expect.stringContaining(out) });
      expect(readdirSync(dir)).toEqual([path.basename(outputLockPath(out))]);
    } finally {
      await held!.release();
    }
    const ok = await build(out, tempHome(), ['dreamcast']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['lab.tar']);
  });
});
