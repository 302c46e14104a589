/**
 * Cross-process advisory locks for the content store, on `proper-lockfile`: a lock is a directory made
 * with mkdir (atomic on every OS and on network file systems) whose mtime the holder refreshes every
 * `LOCK_UPDATE_MS`; a lock not refreshed for `LOCK_STALE_MS` belongs to a dead process and is taken over.
 * A holder that finds its lock taken over (it stalled longer than that) is told through `compromised`.
 * Used for one blob's partial download (`ingest/<hex>.lock`) and for index.json read-modify-write.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { FlightDeckError } from '../errors.js';

export const LOCK_STALE_MS = 10_000;
export const LOCK_UPDATE_MS = 2_000;

export interface HeldLock {
  /** True once another process took the lock over (this one stalled past LOCK_STALE_MS). */
  readonly compromised: boolean;
  release(): Promise<void>;
}

function options(lockPath: string, onCompromised: (err: Error) => void): lockfile.LockOptions {
  return { realpath: false, lockfilePath: lockPath, stale: LOCK_STALE_MS, update: LOCK_UPDATE_MS, retries: 0, onCompromised };
}

/** Take the lock at `lockPath` (guarding `file`) if free or stale; undefined when a live process holds it. */
export async function tryLock(file: string, lockPath: string): Promise<HeldLock | undefined> {
  let compromised = false;
  let release: () => Promise<void>;
  try {
    await mkdir(path.dirname(lockPath), { recursive: true });
    release = await lockfile.lock(
      file,
      options(lockPath, () => (compromised = true)),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw new FlightDeckError('IO_ERROR', `Cannot create the lock ${lockPath}: ${(err as Error).message}`, { cause: err, details: { path: lockPath } });
  }
  return {
    get compromised() {
      return compromised;
    },
    release: () => release().catch(() => {}),
  };
}

/** Whether a live process holds the lock at `lockPath`. */
export async function isLocked(file: string, lockPath: string): Promise<boolean> {
  return lockfile.check(file, { realpath: false, lockfilePath: lockPath, stale: LOCK_STALE_MS }).catch(() => false);
}

/**
 * Resolve when the lock at `lockPath` may have been released: its directory entry changed (fs.watch on
 * the parent), or after `maxWaitMs` at the latest (a watch can miss events, and a crashed holder's lock
 * only goes stale with time). Rejects with ABORTED on `signal`.
 */
export function lockChanged(lockPath: string, signal?: AbortSignal, maxWaitMs = 1000): Promise<void> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    const name = path.basename(lockPath);
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, maxWaitMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = watch(path.dirname(lockPath), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        done();
        resolve();
      });
      watcher.on('error', () => {});
    } catch {
      // No watch (a file system without one): the timer alone wakes the waiter.
    }
  });
}

/**
 * Run `fn` holding the lock at `lockPath`, waiting for another holder for at most `waitMs` (more than
 * LOCK_STALE_MS, so a crashed holder's lock is taken over rather than reported).
 */
export async function withLock<T>(file: string, lockPath: string, fn: () => Promise<T>, waitMs = 3 * LOCK_STALE_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lock = await tryLock(file, lockPath);
    if (lock) {
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline) {
      throw new FlightDeckError('IO_ERROR', `${file} stayed locked by another Flight Deck process for ${Math.round(waitMs / 1000)} s (lock ${lockPath}).`, {
        hint: 'Another flightdeck process is using the content store; try again when it is done.',
        details: { path: lockPath },
      });
    }
    await lockChanged(lockPath, undefined, 100);
  }
}
