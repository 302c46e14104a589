import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitsCheck } from '../../../../core/deploy/check.js';
import { ROOT } from '../../../support/cli.js';

// Real modules from the demo kit (compiled from assets/demo-kit-src/*.wat).
const blob = (hex: string) => readFileSync(path.join(ROOT, 'assets/demo-kit/blobs/sha256', hex));
const assetCache = blob('4ca300f320453dff8a2f872b4d637e9f374bf154f8a99240242807d8a5b9bc13'); // 512 pages initial
const sessionThreads = blob('68c8d11b67e9ea702e325f1c2685e57a5ff970af3669a1ceb11730519e390827'); // shared memory
const memoryValidation = blob('f1e539eb01db3b33c663f059c979b9e41ed82d7835e617e44cb4926d7cb476ff'); // 1 page

describe('interim payload check (engine-based, until the issue 5 check is wired)', () => {
  it('passes a small single-threaded module on every platform', async () => {
    for (const p of ['dreamcast', 'vita', 'v6r-small', 'v6r-medium', 'v6r-large']) {
      expect(await limitsCheck(memoryValidation, p)).toEqual({ ok: true, findings: [] });
    }
  });

  it('finds a 32 MiB initial memory too big for the 16 MiB Dreamcast only', async () => {
    const dc = await limitsCheck(assetCache, 'dreamcast');
    expect(dc.ok).toBe(false);
    expect(dc.findings).toEqual([{ rule: 'memory', message: expect.stringContaining('33554432 bytes; Sega Dreamcast gives a payload 16777216') }]);
    expect((await limitsCheck(assetCache, 'v6r-small')).ok).toBe(true);
  });

  it('finds shared memory (threads) on a single-threaded platform only', async () => {
    expect((await limitsCheck(sessionThreads, 'dreamcast')).findings.map((f) => f.rule)).toEqual(['threads']);
    expect((await limitsCheck(sessionThreads, 'vita')).ok).toBe(true);
  });

  it('rejects bytes that are not a module, and an unknown platform by code', async () => {
    const bad = await limitsCheck(Buffer.from('not wasm'), 'vita');
    expect(bad).toMatchObject({ ok: false, findings: [{ rule: 'wasm' }] });
    await expect(limitsCheck(memoryValidation, 'gamecube')).rejects.toMatchObject({ code: 'PLATFORM_UNKNOWN' });
  });
});
