import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyring, type TestKeyring } from '../../support/keyring.js';
import { availableSecretStores, openSecretStore } from '../../../native-bridge/keychain/index.js';
import type { SecretStore } from '../../../core/credentials/secret-store.js';

// Both adapters against a real gnome-keyring in a private D-Bus session, cross-checked with secret-tool
// (libsecret's own CLI) as an independent reader.
let keyring: TestKeyring;
beforeAll(async () => {
  keyring = await startKeyring({ applyToProcess: true });
});
afterAll(async () => keyring?.stop());

const secretTool = (...args: string[]) => execFileSync('secret-tool', args, { env: keyring.env, encoding: 'utf8' });

/** One adapter as loaded by native-bridge; `attr` is the Secret Service attribute it files the account under. */
function adapter(name: string, service: string): SecretStore {
  const store = availableSecretStores(service).stores.find((s) => s.backend === name);
  if (!store) throw new Error(`${name} did not load`);
  return store;
}
const adapters = [
  { name: 'keytar', make: (s: string) => adapter('keytar', s), attr: 'account' },
  { name: '@napi-rs/keyring', make: (s: string) => adapter('@napi-rs/keyring', s), attr: 'username' },
];

describe.each(adapters)('$name adapter on a real Secret Service', ({ name, make, attr }) => {
  const service = `flightdeck-test-${name.replace(/\W/g, '')}`;

  it('stores, reads back (also through secret-tool), lists and deletes', async () => {
    const store = make(service);
    expect(store.backend).toBe(name);
    await store.set('reg.example:5000', 's3cret-A');
    expect(await store.get('reg.example:5000')).toBe('s3cret-A');
    expect(secretTool('lookup', 'service', service, attr, 'reg.example:5000')).toBe('s3cret-A');
    await store.set('reg.example:5000', 's3cret-B');
    expect(await store.get('reg.example:5000')).toBe('s3cret-B');
    expect(await store.accounts()).toEqual(['reg.example:5000']);
    expect(await store.delete('reg.example:5000')).toBe(true);
    expect(await store.delete('reg.example:5000')).toBe(false);
    expect(await store.get('reg.example:5000')).toBeNull();
    expect(() => secretTool('lookup', 'service', service, attr, 'reg.example:5000')).toThrow();
  });

  it('loses nothing under 20 parallel writes and reads', async () => {
    const store = make(`${service}-par`);
    const hosts = Array.from({ length: 20 }, (_, i) => `host${i}.example:5000`);
    await Promise.all(hosts.map((h, i) => store.set(h, `secret-${i}`)));
    const values = await Promise.all(hosts.map((h) => store.get(h)));
    expect(values).toEqual(hosts.map((_, i) => `secret-${i}`));
    expect((await store.accounts()).sort()).toEqual([...hosts].sort());
    await Promise.all(hosts.map((h) => store.delete(h)));
    expect(await store.accounts()).toEqual([]);
  });
});

describe('backend choice', () => {
  it('loads both backends here and opens keytar first', async () => {
    const { stores, loadErrors } = availableSecretStores('flightdeck-test-choice');
    expect(loadErrors).toEqual([]);
    expect(stores.map((s) => s.backend)).toEqual(['keytar', '@napi-rs/keyring']);
    expect((await openSecretStore('flightdeck-test-choice')).backend).toBe('keytar');
  });
});
