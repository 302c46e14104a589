import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseWasm } from '../../../../core/wasm/parser.js';
import { bytesSource } from '../../../../core/wasm/reader.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { WasmReportSchema } from '../../../../core/api/contract.js';
import { buildComponent, fixtureBytes, realComponent, REAL_BINARIES, type Fixture } from '../../../support/wasm.js';
import { mutate, rng } from '../../../support/fuzz.js';

/**
 * Every outcome must be a report that satisfies the api contract, or WASM_MALFORMED with an offset:
 * never another exception, never a hang.
 */
async function outcome(bytes: Uint8Array, crossCheck: boolean): Promise<'ok' | 'malformed'> {
  try {
    const report = await parseWasm(bytesSource(bytes), { name: 'fuzz.wasm', crossCheck });
    WasmReportSchema.parse(report);
    return 'ok';
  } catch (err) {
    if (!(err instanceof FlightDeckError) || err.code !== 'WASM_MALFORMED' || typeof err.details?.offset !== 'number') throw err;
    return 'malformed';
  }
}

describe('fuzz: mutated real modules', () => {
  it('returns a report or WASM_MALFORMED for 3,000 mutations of the fixtures and two components (seed 5)', async () => {
    const names: Fixture[] = ['simd', 'bulk-memory', 'reference-types', 'shared-memory', 'exceptions', 'target-features', 'multi-memory'];
    const seeds = [...names.map((n) => fixtureBytes(n)), buildComponent(fixtureBytes('simd')), (await realComponent()).bytes];
    const random = rng(5);
    const seen = { ok: 0, malformed: 0 };
    for (let i = 0; i < 3000; i++) seen[await outcome(mutate(seeds[i % seeds.length]!, random), true)]++;
    expect(seen.ok + seen.malformed).toBe(3000);
    expect(seen.malformed).toBeGreaterThan(1000);
    expect(seen.ok).toBeGreaterThan(10);
  });

  it('survives 40 mutations of a large real binary (sql.js)', async () => {
    const big = readFileSync(REAL_BINARIES[0]!);
    const random = rng(7);
    for (let i = 0; i < 40; i++) expect(['ok', 'malformed']).toContain(await outcome(mutate(big, random), false));
  });
});
