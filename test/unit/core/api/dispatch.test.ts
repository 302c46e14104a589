import { afterEach, describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../../../core/api/dispatch.js';
import { METHODS } from '../../../../core/api/contract.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { clearRegisteredSecrets, registerSecret } from '../../../../core/credentials/redact.js';

afterEach(() => clearRegisteredSecrets());

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  // Every other area's methods: present (the type requires them), unused here.
  const unused = Object.fromEntries(METHODS.map((m) => [m, async () => Promise.reject(new Error(`${m} is not stubbed`))])) as unknown as Handlers;
  return {
    ...unused,
    'app.version': async () => ({ version: '1.2.3', node: '20', platform: 'linux', arch: 'x64', demoKit: '/kit' }),
    'doctor.run': async () => ({ version: '1.2.3', paths: { config: 'c', data: 'd', cache: 'k', log: 'l' }, capabilities: [] }),
    ...overrides,
  };
}

describe('dispatch', () => {
  it('returns the handler value in an ok envelope', async () => {
    expect(await dispatch(handlers(), 'app.version', {})).toEqual({
      ok: true,
      value: { version: '1.2.3', node: '20', platform: 'linux', arch: 'x64', demoKit: '/kit' },
    });
  });

  it('refuses unknown methods, including prototype names', async () => {
    for (const m of ['nope', 'toString', '__proto__', 42]) {
      const env = await dispatch(handlers(), m, {});
      expect(env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
  });

  it('validates input against the contract, naming the field', async () => {
    const env = await dispatch(handlers(), 'doctor.run', { registries: 'not-an-array' });
    expect(env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining('registries') } });
    expect(await dispatch(handlers(), 'app.version', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('turns thrown errors into payloads with code and hint, never a stack', async () => {
    const env = await dispatch(
      handlers({
        'app.version': async () => {
          throw new FlightDeckError('KEYCHAIN_UNAVAILABLE', 'no secret service');
        },
      }),
      'app.version',
      {},
    );
    expect(env.ok).toBe(false);
    if (!env.ok) {
      expect(env.error.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(env.error.hint.length).toBeGreaterThan(0);
      expect(JSON.stringify(env)).not.toMatch(/at .*\.ts:\d+/);
    }
    const internal = await dispatch(
      handlers({
        'app.version': async () => {
          throw new TypeError('oops');
        },
      }),
      'app.version',
      {},
    );
    expect(internal).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('scrubs secrets from error payloads', async () => {
    registerSecret('tok-1234567890');
    const env = await dispatch(
      handlers({
        'app.version': async () => {
          throw new FlightDeckError('REGISTRY_UNAUTHORIZED', 'token tok-1234567890 refused');
        },
      }),
      'app.version',
      {},
    );
    expect(JSON.stringify(env)).not.toContain('tok-1234567890');
  });

  it('rejects handler output that breaks the contract', async () => {
    const env = await dispatch(handlers({ 'app.version': async () => ({ version: 1 }) as never }), 'app.version', {});
    expect(env).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});
