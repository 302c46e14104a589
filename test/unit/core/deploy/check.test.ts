import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLimits, profileCheck } from '../../../../core/deploy/check.js';
import { platformLimits } from '../../../../core/deploy/platform-limits.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { ROOT, tempHome } from '../../../support/cli.js';
import { buildComponent, wat2wasm } from '../../../support/wasm.js';

// Real modules from the demo kit (compiled from assets/demo-kit-src/*.wat).
const blob = (hex: string) => readFileSync(path.join(ROOT, 'assets/demo-kit/blobs/sha256', hex));
const assetCache = blob('4ca300f320453dff8a2f872b4d637e9f374bf154f8a99240242807d8a5b9bc13'); // 512 pages initial
const sessionThreads = blob('68c8d11b67e9ea702e325f1c2685e57a5ff970af3669a1ceb11730519e390827'); // shared memory
const memoryValidation = blob('f1e539eb01db3b33c663f059c979b9e41ed82d7835e617e44cb4926d7cb476ff'); // 1 page
const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
const check = profileCheck(paths);

describe('host payload check (the platform rules of `flightdeck check`)', () => {
  it('passes a small single-threaded module on every platform', async () => {
    for (const p of ['dreamcast', 'vita', 'v6r-small', 'v6r-medium', 'v6r-large']) {
      expect(await check(memoryValidation, p)).toEqual({ ok: true, findings: [] });
    }
  });

  it('refuses a 32 MiB initial memory on Dreamcast with the memory rule; it fits V6R medium', async () => {
    const dc = await check(assetCache, 'dreamcast');
    expect(dc.ok).toBe(false);
    expect(dc.findings.map((f) => f.rule)).toContain('memory.initial-exceeds-budget');
    expect((await check(assetCache, 'v6r-medium')).ok).toBe(true);
  });

  it('refuses shared memory (threads) on single-threaded Dreamcast only', async () => {
    expect((await check(sessionThreads, 'dreamcast')).findings.map((f) => f.rule)).toContain('threads.unsupported');
    expect((await check(sessionThreads, 'vita')).ok).toBe(true);
  });

  it('reports bytes that are not a module as a finding, and an unknown platform by code', async () => {
    const bad = await check(Buffer.from('not wasm'), 'vita');
    expect(bad).toMatchObject({ ok: false, findings: [{ rule: 'wasm.malformed' }] });
    await expect(check(memoryValidation, 'gamecube')).rejects.toMatchObject({ code: 'PLATFORM_UNKNOWN' });
  });
});

describe('device-side limits (the emulator loader), from the same profiles', () => {
  it('takes memory and threads from the profile budget', async () => {
    const dc = await platformLimits('dreamcast', paths);
    expect(dc).toMatchObject({ id: 'dreamcast', threads: 1 });
    expect(dc.memory).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    await expect(platformLimits('gamecube', paths)).rejects.toMatchObject({ code: 'PLATFORM_UNKNOWN' });
  });

  it('refuses what the engine sees past the limits: a too-big memory, shared memory on one thread', async () => {
    const dc = await platformLimits('dreamcast', paths);
    expect((await checkLimits(assetCache, dc)).findings.map((f) => f.rule)).toEqual(['memory']);
    expect((await checkLimits(sessionThreads, dc)).findings.map((f) => f.rule)).toEqual(['threads']);
    expect((await checkLimits(memoryValidation, dc)).ok).toBe(true);
    expect((await checkLimits(Buffer.from('not wasm'), dc)).findings.map((f) => f.rule)).toEqual(['wasm']);
  });

  // Issue 15: the loader read exported memories of an instance only, so these all passed on a 16 MiB kit.
  it('refuses what the module declares, not what an instance exports: unexported, trapping start, imported, memory64, shared import', async () => {
    const dc = await platformLimits('dreamcast', paths);
    const rules = async (wat: string, flags: string[] = []) => (await checkLimits(wat2wasm(wat, flags), dc)).findings.map((f) => f.rule);
    expect(await rules('(module (memory 1024 1024))')).toEqual(['memory']); // 64 MiB, not exported
    expect(await rules('(module (memory (export "memory") 1024 1024) (func $s unreachable) (start $s))')).toEqual(['memory']);
    expect(await rules('(module (memory 1 1) (func $s unreachable) (start $s))')).toEqual([]); // a trap alone is no finding
    expect(await rules('(module (import "env" "memory" (memory 1024 1024)))')).toEqual(['memory']);
    expect(await rules('(module (memory i64 1024 1024))', ['--enable-memory64'])).toEqual(['memory', 'memory64']);
    expect(await rules('(module (import "env" "memory" (memory 1 1 shared)))', ['--enable-threads'])).toEqual(['threads']);
    expect(await rules('(module (memory 200 200) (memory 200 200))', ['--enable-multi-memory'])).toEqual(['memory']); // 2 x 12.5 MiB
    const one = (await checkLimits(wat2wasm('(module (memory 1024 1024))'), dc)).findings[0]!.message;
    expect(one).toMatch(/memory 0 starts at 67108864 bytes; Sega Dreamcast \(dev kit\) gives a payload \d+$/);
    expect((await checkLimits(buildComponent(wat2wasm('(module)')), dc)).findings.map((f) => f.rule)).toEqual(['wasm']);
  });
});
