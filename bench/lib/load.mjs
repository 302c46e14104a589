// The load rule every benchmark in bench/ follows (one copy, used by all of them): a ratio between two
// tools is only meaningful on a quiet machine, so each bench records the load average (os.loadavg) with its
// results and withholds its ratios when the 1-minute load exceeds LOAD_LIMIT. `--ignore-load` prints them
// anyway, marked "indicative, load X".
//
// The load is judged before the bench starts its own work (its own processes raise the 1-minute average
// while it runs): when it is above the limit, the bench first waits up to LOAD_WAIT_S seconds for it to
// fall (e.g. after the previous bench of `npm run bench`). The load at the end is recorded too.
import os from 'node:os';

export const LOAD_LIMIT = 1.5;
const LOAD_WAIT_S = Number(process.env.BENCH_LOAD_WAIT_S ?? 90);
export const ignoreLoad = process.argv.includes('--ignore-load');

const fmt = (l) => l.map((x) => x.toFixed(2)).join(' ');
let start;

/**
 * Call once before the bench's own work: waits (up to LOAD_WAIT_S) for the 1-minute load to fall under
 * LOAD_LIMIT unless --ignore-load, then records it. Returns the load average [1, 5, 15 min].
 */
export async function loadAtStart() {
  const deadline = Date.now() + LOAD_WAIT_S * 1000;
  let announced = false;
  while (!ignoreLoad && os.loadavg()[0] > LOAD_LIMIT && Date.now() < deadline) {
    if (!announced) console.log(`load average ${fmt(os.loadavg())} (1/5/15 min) is above ${LOAD_LIMIT}: waiting up to ${LOAD_WAIT_S} s for it to fall…`);
    announced = true;
    await new Promise((r) => setTimeout(r, 5000));
  }
  start = os.loadavg();
  console.log(`load average at start: ${fmt(start)} (1/5/15 min), ${os.cpus().length} cores${ignoreLoad ? ', --ignore-load' : ''}`);
  return start;
}

/** For benches without ratios (the fuzz runs): print the load average with the results, no waiting. */
export function recordLoad(when) {
  console.log(`load average ${when}: ${fmt(os.loadavg())} (1/5/15 min), ${os.cpus().length} cores`);
}

/** True when ratios may be reported as measured (quiet machine at the start). */
export function quiet() {
  return (start ?? os.loadavg())[0] <= LOAD_LIMIT;
}

/**
 * A ratio as text: `1.23×` on a quiet machine; `1.23× (indicative, load 3.10)` with --ignore-load;
 * otherwise `withheld (load 3.10)`, and `loadAtEnd` explains why.
 */
export function ratio(x, digits = 2) {
  const l1 = (start ?? os.loadavg())[0];
  if (quiet()) return `${x.toFixed(digits)}×`;
  if (ignoreLoad) return `${x.toFixed(digits)}× (indicative, load ${l1.toFixed(2)})`;
  return `withheld (load ${l1.toFixed(2)})`;
}

/** Call once at the end: prints the load at the end and, when ratios were withheld, why. */
export function loadAtEnd() {
  const end = os.loadavg();
  console.log(`load average at end: ${fmt(end)} (1/5/15 min; includes this bench's own processes)`);
  if (!quiet() && !ignoreLoad) {
    console.log(
      `ratios withheld: the 1-minute load average was ${(start ?? end)[0].toFixed(2)} at the start, above ${LOAD_LIMIT}; other work on this machine skews side-by-side timings. ` +
        `Run again on a quiet machine, or pass --ignore-load (npm run bench -- NAME --ignore-load) for indicative ratios.`,
    );
  }
  return end;
}
