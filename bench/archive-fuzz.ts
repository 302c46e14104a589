/**
 * `npm run bench -- archive-fuzz` (or `npx tsx bench/archive-fuzz.ts`): 100,000 mutated archives through
 * the tar reader (plain and gzip), `pull --unpack` and the kit reader plus kit verify, with the properties
 * of test/support/archive-fuzz.ts (only coded refusals, nothing written outside the target, nothing left
 * after a refusal, no link leading out). FUZZ_CASES sets the total (split 50/45/2.5/2.5 %: the disk targets cost
 * 10-40 times a reader case; FUZZ_DISK_SHARE=0.5 runs only unpack and kit), FUZZ_SEED the seed.
 * Prints the outcome counts, the time, the slowest case and the peak RSS.
 */
import { runArchiveFuzz, scratchRoot } from '../test/support/archive-fuzz.js';
import { rng } from '../test/support/fuzz.js';
import { recordLoad } from './lib/load.mjs';

recordLoad('at start');

const total = Number(process.env.FUZZ_CASES ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? 2026);
// FUZZ_DISK_SHARE: the share of each disk target (unpack, kit); the rest is split 50:45 tar:gzip.
const disk = Math.round(total * Number(process.env.FUZZ_DISK_SHARE ?? 0.025));
const tar = Math.round(((total - 2 * disk) * 50) / 95);
const counts = { tar, gzip: total - 2 * disk - tar, unpack: disk, kit: disk };
let peakRss = 0;
const t = performance.now();
const tally = await runArchiveFuzz(counts, rng(seed), {
  onCase: (done) => {
    if (done % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (done % 10_000 === 0) console.error(`  ${done} cases, ${((performance.now() - t) / 1000).toFixed(0)} s`);
  },
});
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const secs = (performance.now() - t) / 1000;
console.log(`node ${process.version}, ${new Date().toISOString()}, scratch ${scratchRoot()}`);
console.log(
  `archive fuzz: ${total} cases (seed ${seed}) in ${secs.toFixed(1)} s, slowest case ${tally.slowestMs.toFixed(0)} ms, peak RSS ${(peakRss / 1024 ** 2).toFixed(0)} MiB`,
);
console.log('| target | cases | read / unpacked / verified ok | refused (coded) | kit report not ok |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(tally) as Array<[string, Record<string, number>]>) {
  if (typeof r !== 'object') continue;
  console.log(`| ${name} | ${(r.ok ?? 0) + (r.refused ?? 0) + (r.invalid ?? 0)} | ${r.ok ?? 0} | ${r.refused ?? 0} | ${r.invalid ?? '-'} |`);
}
recordLoad('at end');
console.log('0 property violations (a violation stops the run with exit 1)');
