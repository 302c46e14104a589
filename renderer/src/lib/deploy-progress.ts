import type { DeployEvent } from '../../../core/api/contract.js';
import type { Progress } from './progress.js';
import { formatBytes } from './format.js';

/** 75 → "1 min 15 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A deploy event (of deploy.run, or of one device of deploy.fleet) with its arrival time `at`, in ms. */
export type TimedEvent = DeployEvent & { at: number };

/**
 * A deploy's bar from its events: bytes the device acknowledged, the current phase, the rate (the event's
 * own, else measured between the first and last progress event by their arrival time `at`), the ETA while uploading, and the
 * retries so far.
 */
export function deployProgress(events: TimedEvent[]): Progress | undefined {
  const phase = events.findLast((e) => e.type === 'phase')?.phase;
  const ups = events.filter((e): e is Extract<TimedEvent, { type: 'progress' }> => e.type === 'progress');
  const first = ups[0];
  const last = ups.at(-1);
  if (!first || !last) return phase ? { done: 0, total: 0, detail: phase } : undefined;
  const { done, total, retries } = last;
  const seconds = (last.at - first.at) / 1000;
  const rate = last.rate ?? (seconds > 0 ? (done - first.done) / seconds : undefined);
  const detail = [
    phase ?? 'upload',
    rate ? `${formatBytes(Math.round(rate))}/s` : undefined,
    rate && phase === 'upload' && total > done ? `ETA ${formatDuration((total - done) / rate)}` : undefined,
    `${retries} ${retries === 1 ? 'retry' : 'retries'}`,
  ];
  return { done, total, detail: detail.filter(Boolean).join(' · ') };
}
