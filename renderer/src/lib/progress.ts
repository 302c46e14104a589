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
  return { done, total, detail: `${last.size} blob${last.size === 1 ? '' : 's'}` };
}
