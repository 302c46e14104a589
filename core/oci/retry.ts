/**
 * The registry client's retry policy (as oras-go's `registry/remote/retry`): which failures are retried
 * (network errors, 500/502/503/504, 429 within the Retry-After cap), the backoff (exponential with jitter,
 * capped), the budget (`retries` after the first attempt; config.json `retry: { attempts, maxDelaySeconds }`)
 * and the announcement of each retry. `RegistryClient.request` applies it around one authenticated send.
 */
import { FlightDeckError } from '../errors.js';
import type { RetryNotice } from './schema.js';

export interface RetryOptions {
  /** Attempts after the first for retryable failures. Default 4 (config.json `retry.attempts` sets it for users). */
  retries?: number | undefined;
  /** First backoff step; doubles each attempt up to `retryMaxMs`. Default 250 ms. */
  retryBaseMs?: number | undefined;
  /** Longest backoff step. Default 5 s (config.json `retry.maxDelaySeconds`). */
  retryMaxMs?: number | undefined;
  /** Longest Retry-After honoured; a longer one fails with RATE_LIMITED. Default 30 s. */
  maxRetryAfterMs?: number | undefined;
  /** Told before each retry of a request, so a long wait on a failing registry is never silent. */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
}

/** A request about to be retried: which one, why, the attempt coming and the wait before it (core/oci/schema.ts). */
export type { RetryNotice } from './schema.js';

/** Statuses retried with backoff (429 is retried too, after its Retry-After). */
export const RETRY_STATUS: ReadonlySet<number> = new Set([500, 502, 503, 504]);
/** Default budget and steps (see RetryOptions). */
export const DEFAULT_RETRIES = 4;
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/** Network error codes that mean an untrusted certificate: never retried (the answer would not change). */
export function isTlsTrustFailure(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code);
}

/**
 * The wait before retry `attempt` (0-based): `retryBaseMs` doubled per attempt, capped at `retryMaxMs`,
 * with jitter `random` in [0, 1) taking it down to half.
 */
export function retryDelayMs(attempt: number, opts: Pick<RetryOptions, 'retryBaseMs' | 'retryMaxMs'>, random: number): number {
  const step = Math.min((opts.retryBaseMs ?? 250) * 2 ** attempt, opts.retryMaxMs ?? 5000);
  return Math.round(step / 2 + random * (step / 2));
}

/** How long a registry may stay down before a request gives up: the least total of every retry's wait. */
export function retryWindowMs(opts: Pick<RetryOptions, 'retries' | 'retryBaseMs' | 'retryMaxMs'>): number {
  let total = 0;
  for (let attempt = 0; attempt < (opts.retries ?? DEFAULT_RETRIES); attempt++) total += retryDelayMs(attempt, opts, 0);
  return total;
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Wait `ms`, or fail with ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
