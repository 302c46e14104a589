import { describe, expect, it } from 'vitest';
import { ApiError, createClient } from '../../../../core/api/client.js';

describe('api client', () => {
  it('returns values from ok envelopes', async () => {
    const client = createClient(async () => ({ ok: true, value: { version: '1', node: '20', platform: 'linux', arch: 'x64' } }));
    expect((await client.call('app.version', {})).version).toBe('1');
  });

  it('throws ApiError with code and hint from error envelopes', async () => {
    const client = createClient(async () => ({ ok: false, error: { code: 'USB_UNAVAILABLE', message: 'no usb', hint: 'h' } }));
    await expect(client.call('app.version', {})).rejects.toMatchObject({ name: 'ApiError', code: 'USB_UNAVAILABLE', hint: 'h' });
  });

  it('refuses malformed envelopes and values that break the contract', async () => {
    await expect(createClient(async () => 'garbage').call('app.version', {})).rejects.toBeInstanceOf(ApiError);
    await expect(createClient(async () => ({ ok: true, value: { version: 2 } })).call('app.version', {})).rejects.toThrow();
  });
});
