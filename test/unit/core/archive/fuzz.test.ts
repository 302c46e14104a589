import { describe, expect, it } from 'vitest';
import { runArchiveFuzz } from '../../../support/archive-fuzz.js';
import { rng } from '../../../support/fuzz.js';

/**
 * Mutated valid archives through the tar reader (plain and gzip), `pull --unpack` and the kit reader plus
 * kit verify (test/support/archive-fuzz.ts checks the properties: only TarFormatError or coded errors,
 * nothing written outside the target, nothing left after a refusal, no link leading out). The bench
 * (bench/archive-fuzz.ts) runs 100,000 cases.
 */
describe('fuzz: archive readers', () => {
  it('tar reader: 1,200 mutated tar archives (seed 15) read or refused with TarFormatError', async () => {
    const t = await runArchiveFuzz({ tar: 1200 }, rng(15));
    expect(t.tar.ok + t.tar.refused).toBe(1200);
    expect(t.tar.refused).toBeGreaterThan(300);
    expect(t.tar.ok).toBeGreaterThan(100);
  });

  it('tar+gzip reader: 600 mutated archives (seed 16)', async () => {
    const t = await runArchiveFuzz({ gzip: 600 }, rng(16));
    expect(t.gzip.ok + t.gzip.refused).toBe(600);
    expect(t.gzip.refused).toBeGreaterThan(100);
    expect(t.gzip.ok).toBeGreaterThan(50);
  });

  it('pull --unpack: 60 mutated tar+gzip layers (seed 17), nothing outside the folder, nothing left on refusal', async () => {
    const t = await runArchiveFuzz({ unpack: 60 }, rng(17));
    expect(t.unpack.ok + t.unpack.refused).toBe(60);
    expect(t.unpack.ok).toBeGreaterThan(5);
  });

  it('kit reader and kit verify: 120 mutated kits (seed 18), coded refusals or a report', async () => {
    const t = await runArchiveFuzz({ kit: 120 }, rng(18));
    expect(t.kit.ok + t.kit.refused + t.kit.invalid).toBe(120);
    expect(t.kit.refused).toBeGreaterThan(20);
    expect(t.kit.ok + t.kit.invalid).toBeGreaterThan(5);
  });
});
