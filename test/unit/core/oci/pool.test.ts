// The one bounded-concurrency helper (core/concurrency.ts) that pull, push and fleet deploys share; pull frees
// a slot before a blob's fsync with `release`.
import { describe, expect, it } from 'vitest';
import { mapLimit as pool } from '../../../../core/concurrency.js';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

describe('pool', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    await pool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await tick(n % 3);
      seen.push(n);
      active--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('a released slot starts the next item while the released task finishes; at most `limit` finishing beside the running ones', async () => {
    let running = 0;
    let finishing = 0;
    let peakRunning = 0;
    let peakTotal = 0;
    const finished: number[] = [];
    await pool(
      Array.from({ length: 12 }, (_, i) => i),
      2,
      async (n, release) => {
        running++;
        peakRunning = Math.max(peakRunning, running);
        peakTotal = Math.max(peakTotal, running + finishing);
        await tick();
        running--;
        finishing++;
        release();
        await tick(20); // the "fsync"
        finishing--;
        finished.push(n);
      },
    );
    expect(finished).toHaveLength(12);
    expect(peakRunning).toBe(2);
    expect(peakTotal).toBe(4);
  });

  it('resolves only after every released task settled, and the first failure stops new work and is thrown', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = pool([0, 1, 2, 3, 4, 5], 2, async (n, release) => {
      started.push(n);
      if (n === 0) throw new Error('boom');
      release();
      await tick(20);
      settled++;
    });
    await expect(run).rejects.toThrow('boom');
    // 0 fails at once; 1 released its slot, so 2 and 3 may have started; 4 and 5 never do.
    expect(started.slice(0, 2)).toEqual([0, 1]);
    expect(started).not.toContain(4);
    expect(started).not.toContain(5);
    expect(settled).toBe(started.length - 1);
  });

  it("returns each task's result in the order of the items, whatever order they finish in", async () => {
    let active = 0;
    let peak = 0;
    // Later items finish first: item n waits for every item after it in its window.
    const gates = Array.from({ length: 6 }, () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const results = await pool([0, 1, 2, 3, 4, 5], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      if (n % 3 === 2 || n === 5) gates[n]!.resolve();
      await gates[n]!.promise;
      if (n > 0) gates[n - 1]!.resolve();
      active--;
      return `r${n}`;
    });
    expect(results).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(peak).toBe(3);
  });

  it('an empty list runs nothing and gives no results', async () => {
    expect(await pool([], 4, async () => 1)).toEqual([]);
  });
});
