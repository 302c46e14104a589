import { FlightDeckError } from '../../core/errors.js';
import { KEYCHAIN_SERVICE, type SecretStore } from '../../core/credentials/secret-store.js';
import { loadOptional } from '../lazy.js';
import type * as KeytarModule from 'keytar';
import type * as NapiKeyringModule from '@napi-rs/keyring';

type Keytar = typeof KeytarModule;
type NapiKeyring = typeof NapiKeyringModule;

/** Translate backend failures (no Secret Service, locked keychain, no D-Bus) into KEYCHAIN_UNAVAILABLE. */
function unavailable(backend: string, err: unknown): FlightDeckError {
  const detail = err instanceof Error ? err.message : String(err);
  return new FlightDeckError('KEYCHAIN_UNAVAILABLE', `The OS keychain is not available (${backend}: ${detail}).`, {
    cause: err,
  });
}

async function guard<T>(backend: string, op: () => Promise<T> | T): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw unavailable(backend, err);
  }
}

export function keytarStore(keytar: Keytar, service = KEYCHAIN_SERVICE): SecretStore {
  const backend = 'keytar';
  return {
    backend,
    get: (account) => guard(backend, () => keytar.getPassword(service, account)),
    set: (account, secret) => guard(backend, () => keytar.setPassword(service, account, secret)),
    delete: (account) => guard(backend, () => keytar.deletePassword(service, account)),
    accounts: () => guard(backend, async () => (await keytar.findCredentials(service)).map((c) => c.account)),
  };
}

/**
 * On Linux the store is pinned to the Secret Service: the library's default silently falls back to the
 * kernel keyring, which forgets everything at reboot — a surprise we refuse (KEYCHAIN_UNAVAILABLE instead).
 */
const NAPI_OPTIONS = { linux: { store: 'secret-service' as const } };

export function napiKeyringStore(keyring: NapiKeyring, service = KEYCHAIN_SERVICE): SecretStore {
  const backend = '@napi-rs/keyring';
  const entry = (account: string) => new keyring.AsyncEntry(service, account, NAPI_OPTIONS);
  return {
    backend,
    get: (account) =>
      guard(backend, () =>
        entry(account)
          .getPassword()
          .then((v) => v ?? null),
      ),
    set: (account, secret) => guard(backend, () => entry(account).setPassword(secret)),
    delete: (account) => guard(backend, () => entry(account).deleteCredential()),
    accounts: () => guard(backend, async () => (await keyring.findCredentialsAsync(service)).map((c) => c.account)),
  };
}

/**
 * The keychain backends that loaded on this machine, keytar first (the design card's choice), then
 * @napi-rs/keyring (maintained, prebuilt). See docs/adr/0002-keychain-backends.md.
 */
export function availableSecretStores(service = KEYCHAIN_SERVICE): { stores: SecretStore[]; loadErrors: string[] } {
  const stores: SecretStore[] = [];
  const loadErrors: string[] = [];
  const keytar = loadOptional<Keytar>('keytar');
  if (keytar.ok) stores.push(keytarStore(keytar.module, service));
  else loadErrors.push(`keytar: ${keytar.error.message.split('\n')[0]}`);
  const napi = loadOptional<NapiKeyring>('@napi-rs/keyring');
  if (napi.ok) stores.push(napiKeyringStore(napi.module, service));
  else loadErrors.push(`@napi-rs/keyring: ${napi.error.message.split('\n')[0]}`);
  return { stores, loadErrors };
}

/** Pick the first backend that can actually reach the keychain (a read of a probe account). */
export async function openSecretStore(service = KEYCHAIN_SERVICE): Promise<SecretStore> {
  const { stores, loadErrors } = availableSecretStores(service);
  const failures = [...loadErrors];
  for (const store of stores) {
    try {
      await store.get('__flightdeck_probe__');
      return store;
    } catch (err) {
      const cause = err instanceof FlightDeckError && err.cause instanceof Error ? err.cause : err;
      failures.push(`${store.backend}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  throw new FlightDeckError(
    'KEYCHAIN_UNAVAILABLE',
    failures.length ? `No keychain backend works here (${failures.join('; ')}).` : 'No keychain backend is installed.',
  );
}
