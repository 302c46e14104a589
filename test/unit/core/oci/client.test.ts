import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../../core/oci/auth.js';
import { nextLink, retryAfterMs } from '../../../../core/oci/client.js';

describe('WWW-Authenticate', () => {
  it('parses Bearer realm/service/scope with quotes and commas', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="flightdeck-test"')).toEqual({ scheme: 'basic', params: { realm: 'flightdeck-test' } });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe('pagination and Retry-After', () => {
  const base = new URL('http://127.0.0.1:5000');
  it('follows a relative next Link on the same registry only', () => {
    expect(nextLink('</v2/_catalog?last=b&n=1>; rel="next"', base)).toBe('/v2/_catalog?last=b&n=1');
    expect(nextLink('<http://evil.example/v2/_catalog?n=1>; rel="next"', base)).toBeUndefined();
    expect(nextLink(undefined, base)).toBeUndefined();
  });
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    const ms = retryAfterMs(new Date(Date.now() + 5000).toUTCString());
    expect(ms).toBeGreaterThan(3000);
    expect(ms).toBeLessThanOrEqual(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
