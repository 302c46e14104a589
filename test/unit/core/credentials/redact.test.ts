import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, redact, redactValue, registerSecret } from '../../../../core/credentials/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('redact', () => {
  it('scrubs registered secrets wherever they appear', () => {
    registerSecret('s3cr3t-token-value');
    expect(redact('token s3cr3t-token-value failed; s3cr3t-token-value again')).toBe('token *** failed; *** again');
  });

  it('masks authorization headers, bearer tokens, URL passwords and secret-looking JSON fields', () => {
    expect(redact('Authorization: Bearer abc.def.ghi')).toBe('Authorization: Bearer ***');
    expect(redact('authorization: Basic dXNlcjpwYXNz')).toBe('authorization: Basic ***');
    expect(redact('GET https://user:hunter2@reg.example/v2/')).toBe('GET https://user:***@reg.example/v2/');
    expect(redact('{"password":"hunter2","user":"bob"}')).toBe('{"password":"***","user":"bob"}');
    expect(redact('{"identitytoken": "abcd1234"}')).toBe('{"identitytoken": "***"}');
  });

  it('leaves ordinary text alone', () => {
    const text = 'pulled localhost:5000/flight/bundles/dreamcast:2026.11.23 (sha256:abc)';
    expect(redact(text)).toBe(text);
  });

  it('redacts values deeply, including secret keys', () => {
    registerSecret('hunter2hunter2');
    const out = redactValue({ a: ['x hunter2hunter2 y'], nested: { token: 'zzz', Authorization: 'Bearer q' }, n: 1 });
    expect(out).toEqual({ a: ['x *** y'], nested: { token: '***', Authorization: '***' }, n: 1 });
  });

  it('returns clean parts as they are and copies only what it changes, never mutating its input', () => {
    registerSecret('hunter2hunter2');
    const clean = { modules: [{ name: 'a.wasm', sections: [{ id: 1, size: 10 }] }], note: 'basic components only' };
    expect(redactValue(clean)).toBe(clean);
    const input = { clean, dirty: { list: ['ok', 'x hunter2hunter2'], password: 'p' } };
    const out = redactValue(input);
    expect(out).toEqual({ clean, dirty: { list: ['ok', 'x ***'], password: '***' } });
    expect(out.clean).toBe(clean);
    expect(input.dirty).toEqual({ list: ['ok', 'x hunter2hunter2'], password: 'p' });
  });
});
