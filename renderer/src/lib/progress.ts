import type { ApiEvent } from '../../../core/api/client.js';

/** What a progress bar shows: done of total, and a short note. */
export interface Progress {
  done: number;
  total: number;
  detail?: string;
}

/** The latest event with numbers. */
export function latestProgress(_events: ApiEvent[], e: ApiEvent): Progress | undefined {
  return e.done !== undefined ? { done: e.done, total: e.total ?? 0, ...(e.detail ? { detail: e.detail } : {}) } : undefined;
}

/** Bytes over all blobs of a pull: the last event of each digest, summed. */
export function blobProgress(events: ApiEvent[]): Progress {
  const last = new Map<string, { done: number; total: number }>();
  for (const e of events) {
    if (e.task === 'blob' && typeof e.digest === 'string') last.set(e.digest, { done: e.done ?? 0, total: e.total ?? 0 });
  }
  let done = 0;
  let total = 0;
  for (const v of last.values()) {
    done += v.done;
    total += v.total;
  }
  const blobs = `${last.size} blob${last.size === 1 ? '' : 's'}`;
  // The registry failed and the request will be tried again: say so until bytes flow again.
  const latest = events.at(-1);
  if (latest?.type === 'retry') {
    return { done, total, detail: `${blobs} · ${String(latest.reason)}, retry ${String(latest.attempt)} of ${String(latest.of)}` };
  }
  return { done, total, detail: blobs };
}
