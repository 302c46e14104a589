/**
 * `npm run bench -- http1-fuzz` (or `npx tsx bench/http1-fuzz.ts [cases] [seed]`): the bulk HTTP/1.1
 * response parser (core/oci/http1.ts) against llhttp, node:http's parser, on generated and mutated
 * responses (test/support/http1-fuzz.ts). Default 100,000 cases (FUZZ_CASES). Exit status 1 on any
 * finding: http1 accepting what llhttp refuses, a different status/headers/body, a verdict that depends on
 * how the bytes were cut, or an undocumented refusal.
 */
import { KNOWN_STRICTER, rng, runFuzz } from '../test/support/http1-fuzz.js';
import { recordLoad } from './lib/load.mjs';

recordLoad('at start');

const cases = Number(process.argv[2] ?? process.env.FUZZ_CASES ?? 100_000);
const seed = Number(process.argv[3] ?? 2026);
const stats = runFuzz(cases, seed, rng, 20);
const byReason: Record<string, number> = {};
for (const [reason, n] of Object.entries(stats.stricter)) {
  const known = KNOWN_STRICTER.find(([re]) => re.test(reason))?.[1] ?? `UNDOCUMENTED: ${reason}`;
  byReason[known] = (byReason[known] ?? 0) + n;
}
console.log(
  `http1 vs llhttp: ${stats.cases} cases (seed ${seed}) in ${(stats.ms / 1000).toFixed(1)} s, ${Math.round(stats.cases / (stats.ms / 1000))} cases/s`,
);
console.log(`  accepted by http1: ${stats.accepted}; outcomes: ${JSON.stringify(stats.outcomes)}`);
console.log('  http1 stricter than llhttp (documented), by reason:');
for (const [reason, n] of Object.entries(byReason)) console.log(`    ${n}  ${reason}`);
for (const f of stats.findings)
  console.log(`  FINDING ${f.outcome}: ${JSON.stringify(f.bytes)}\n    http1  ${JSON.stringify(f.http1)}\n    llhttp ${JSON.stringify(f.llhttp)}`);
recordLoad('at end');
process.exit(stats.findings.length > 0 ? 1 : 0);
