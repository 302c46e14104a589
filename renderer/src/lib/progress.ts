import type { ApiEvent } from '../../../core/api/client.js';
import type { BlobProgressEvent, EventOf, RetryEvent } from '../../../core/api/contract.js';

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

/** The events a blob bar folds: a pull's or a kit build's (blob progress, registry retries, the build plan). */
export type BlobBarEvent = EventOf<'registry.pull'> | EventOf<'kit.build'>;

const isBlob = (e: BlobBarEvent): e is BlobProgressEvent => e.type === 'progress';
const isRetry = (e: BlobBarEvent | undefined): e is RetryEvent => e?.type === 'retry';

/**
 * Bytes over all blobs of a pull: the last event of each digest, summed. The events are the ones the
 * contract declares (core/oci/schema.ts); the client has dropped any that do not fit.
 */
export function blobProgress(events: readonly BlobBarEvent[]): Progress {
  const last = new Map<string, { done: number; total: number }>();
  for (const e of events) {
    if (isBlob(e)) last.set(e.digest, { done: e.done, total: e.total });
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
  if (isRetry(latest)) {
    return { done, total, detail: `${blobs} · ${latest.reason}, retry ${latest.attempt} of ${latest.of}` };
  }
  return { done, total, detail: blobs };
}
