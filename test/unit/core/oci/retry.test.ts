// The registry client's retry policy (core/oci/retry.ts), table-driven: backoff steps and jitter, the
// budget's window, which failures retry, the abortable wait. The client applying it against a real
// faulty server is test/integration/core/oci/faults.test.ts.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRIES, RETRY_STATUS, isTlsTrustFailure, retryDelayMs, retryWindowMs, sleep } from '../../../../core/oci/retry.js';

describe('retry policy', () => {
  const STEPS: Array<[string, number, { retryBaseMs?: number; retryMaxMs?: number }, number, number]> = [
    // name, attempt, options, least wait (jitter 0), most wait (jitter → 1)
    ['first retry, defaults', 0, {}, 125, 250],
    ['doubles per attempt', 3, {}, 1000, 2000],
    ['capped at retryMaxMs (default 5 s)', 10, {}, 2500, 5000],
    ['configured base', 2, { retryBaseMs: 10 }, 20, 40],
    ['configured cap (retry.maxDelaySeconds)', 6, { retryBaseMs: 100, retryMaxMs: 1000 }, 500, 1000],
  ];
  for (const [name, attempt, opts, least, most] of STEPS) {
    it(`backoff: ${name}`, () => {
      expect(retryDelayMs(attempt, opts, 0)).toBe(least);
      expect(retryDelayMs(attempt, opts, 0.999999)).toBe(most);
      expect(retryDelayMs(attempt, opts, 0.5)).toBe(Math.round((least + most) / 2));
    });
  }

  it('the retry window is the least total wait of the whole budget', () => {
    expect(DEFAULT_RETRIES).toBe(4);
    expect(retryWindowMs({})).toBe(125 + 250 + 500 + 1000);
    expect(retryWindowMs({ retries: 0 })).toBe(0);
    expect(retryWindowMs({ retries: 3, retryBaseMs: 1000, retryMaxMs: 1500 })).toBe(500 + 750 + 750);
  });

  it('retries 500/502/503/504, not other statuses (429 is handled through Retry-After)', () => {
    for (const status of [500, 502, 503, 504]) expect(RETRY_STATUS.has(status), String(status)).toBe(true);
    for (const status of [200, 400, 401, 403, 404, 429, 501, 505]) expect(RETRY_STATUS.has(status), String(status)).toBe(false);
  });

  it('never retries an untrusted certificate', () => {
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ]) {
      expect(isTlsTrustFailure(code), code).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPROTO', 'ENOTFOUND']) expect(isTlsTrustFailure(code), code).toBe(false);
  });

  it('the wait between retries ends at once with ABORTED when cancelled', async () => {
    const ac = new AbortController();
    const waiting = sleep(60_000, ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(sleep(60_000, AbortSignal.abort())).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
