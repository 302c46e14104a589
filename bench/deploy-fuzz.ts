/**
 * `npm run bench deploy-fuzz` (or `npx tsx bench/deploy-fuzz.ts`): the nightly-size fuzz of the deploy
 * protocol (issue 15), 100,000 cases each of the frame decoder and of the device's message handlers
 * (FUZZ_CASES to change it). The unit test runs the same code with a few thousand cases.
 */
import { fuzzDevice, fuzzFrameDecoder } from '../test/support/deploy-fuzz.js';
import { recordLoad } from './lib/load.mjs';

recordLoad('at start');

const CASES = Number(process.env.FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 2026);

let t = performance.now();
const frames = fuzzFrameDecoder(CASES, SEED);
console.log(
  `frame decoder: ${frames.cases} streams (seed ${SEED}) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${frames.frames} frames out, ${frames.dropped} dropped, 0 exceptions, 0 chunking differences`,
);
t = performance.now();
const rssStart = process.memoryUsage().rss;
let rssPeak = rssStart;
const device = await fuzzDevice(CASES, SEED, {
  onCase: (i) => {
    if (i % 1000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  },
});
console.log(
  `device handlers: ${device.cases} messages (seed ${SEED}) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${device.frames} replies, errors ${JSON.stringify(device.errors)}, 0 uncaught, 0 hangs, rss ${(rssStart / 2 ** 20).toFixed(0)} -> peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB`,
);
recordLoad('at end');
