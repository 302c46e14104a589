import type { ApiEvent } from '../../../core/api/client.js';
import type { Progress } from './progress.js';
import { formatBytes } from './format.js';

/** 75 → "1 min 15 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * A deploy's bar from its events: bytes the device acknowledged, the current phase, the rate (the event's
 * own, else measured between the first and last progress event by their arrival time `at`, in ms), the
 * ETA while uploading, and the retries so far.
 */
export function deployProgress(events: ApiEvent[]): Progress | undefined {
  const phase = events.findLast((e) => e.type === 'phase')?.phase;
  const ups = events.filter((e) => e.type === 'progress' && e.done !== undefined);
  const first = ups[0];
  const last = ups.at(-1);
  if (!first || !last) return typeof phase === 'string' ? { done: 0, total: 0, detail: phase } : undefined;
  const done = last.done ?? 0;
  const total = last.total ?? 0;
  const seconds = (Number(last.at) - Number(first.at)) / 1000;
  const rate = typeof last.rate === 'number' ? last.rate : seconds > 0 ? (done - (first.done ?? 0)) / seconds : undefined;
  const retries = Number(last.retries ?? 0);
  const detail = [
    typeof phase === 'string' ? phase : 'upload',
    rate ? `${formatBytes(Math.round(rate))}/s` : undefined,
    rate && phase === 'upload' && total > done ? `ETA ${formatDuration((total - done) / rate)}` : undefined,
    `${retries} ${retries === 1 ? 'retry' : 'retries'}`,
  ];
  return { done, total, detail: detail.filter(Boolean).join(' · ') };
}
