/**
 * The one bounded-concurrency helper: pull and push (blobs) and fleet deploys (devices) run their work
 * through it.
 */

/**
 * Run `task` over `items` with at most `limit` in flight; results come back in the order of `items`. The
 * first failure stops new work and is thrown once every started task has settled. A task may call
 * `release` to free its slot before it settles (a download whose bytes are in and only the fsync is left);
 * at most `limit` such finishing tasks wait beside the running ones.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, release: () => void) => Promise<R>): Promise<R[]> {
  const slots = Math.max(1, limit);
  const results = new Array<R>(items.length);
  let active = 0;
  let settling = 0;
  let failed: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const all: Array<Promise<void>> = [];
  for (const [i, item] of items.entries()) {
    while (failed === undefined && (active >= slots || active + settling >= 2 * slots)) await new Promise<void>((r) => (wake = r));
    if (failed !== undefined) break;
    active++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      active--;
      settling++;
      notify();
    };
    all.push(
      task(item, release)
        .then((r) => {
          results[i] = r;
        })
        .catch((err: unknown) => {
          failed ??= { err };
        })
        .finally(() => {
          release();
          settling--;
          notify();
        }),
    );
  }
  await Promise.all(all);
  if (failed !== undefined) throw failed.err;
  return results;
}
