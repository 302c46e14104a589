import { afterEach, describe, expect, it } from 'vitest';
import { envCredentialProvider } from '../../../../core/credentials/env.js';
import { clearRegisteredSecrets, redact } from '../../../../core/credentials/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('envCredentialProvider', () => {
  it('prefers flags (Basic), then FLIGHTDECK_REGISTRY_TOKEN, then ORAS_REGISTRY_TOKEN, and registers secrets', async () => {
    const flag = envCredentialProvider({
      env: { FLIGHTDECK_REGISTRY_TOKEN: 'tok-fd-1234' },
      flag: { username: 'u', password: 'pw-flag-5678', registry: 'a:1' },
      tokenRegistry: 'a:1',
    });
    expect(await flag('a:1')).toEqual({ kind: 'basic', username: 'u', password: 'pw-flag-5678', source: 'flag' });
    expect(redact('pw-flag-5678')).toBe('***');
    const token = envCredentialProvider({ env: { FLIGHTDECK_REGISTRY_TOKEN: 'tok-fd-1234', ORAS_REGISTRY_TOKEN: 'tok-oras-0000' }, tokenRegistry: 'a:1' });
    expect(await token('A:1')).toEqual({ kind: 'bearer', token: 'tok-fd-1234', source: 'env' });
    expect(redact('Authorization tok-fd-1234')).not.toContain('tok-fd-1234');
    expect(await envCredentialProvider({ env: { ORAS_REGISTRY_TOKEN: 'tok-oras-1234' }, tokenRegistry: 'x' })('x')).toMatchObject({
      kind: 'bearer',
      token: 'tok-oras-1234',
    });
    expect(await envCredentialProvider({ env: {}, tokenRegistry: 'x' })('x')).toBeUndefined();
  });

  it('hands flags and the env token out only for the registry of the command, never for another one', async () => {
    const p = envCredentialProvider({
      env: { FLIGHTDECK_REGISTRY_TOKEN: 'tok-fd-1234' },
      flag: { username: 'u', password: 'pw-flag-5678', registry: 'a:1' },
      tokenRegistry: 'a:1',
    });
    expect(await p('b:2')).toBeUndefined();
    expect(await p('a:2')).toBeUndefined();
    // No command target (the web host, the app): the env token is not used, but still redacted.
    const none = envCredentialProvider({ env: { ORAS_REGISTRY_TOKEN: 'tok-oras-1234' } });
    expect(await none('x')).toBeUndefined();
    expect(redact('tok-oras-1234')).toBe('***');
  });
});
