// The bounded task pool that pull and push share (core/oci/pull.ts).
import { describe, expect, it } from 'vitest';
import { pool } from '../../../../core/oci/pull.js';

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
    await pool(Array.from({ length: 12 }, (_, i) => i), 2, async (n, release) => {
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
    });
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
});
