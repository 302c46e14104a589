/**
 * The credentials module: where a registry's credentials come from, in this documented order
 * (docs/credentials.md):
 *   1. flags (`--username` + `--password-stdin`)
 *   2. environment: FLIGHTDECK_REGISTRY_TOKEN, then ORAS_REGISTRY_TOKEN (for CI)
 *   (1 and 2 only for the registry of the command's target, `tokenRegistry`)
 *   3. the OS keychain (service `flightdeck`, account = registry host)
 *   4. docker config: credHelpers / credsStore helpers, then inline `auths`
 *   5. anonymous
 * and login (verify, then store), logout, list and test. Secrets are registered for redaction the moment
 * they are read, and never returned by list.
 */
import { FlightDeckError } from '../errors.js';
import { dockerCredential, listDockerCredentials, normalizeRegistryKey, readDockerConfig } from './docker-config.js';
import { runHelper, type HelperRunner } from './docker-helper.js';
import { envCredentialProvider, type FlagCredential } from './env.js';
import { decodeRecord, encodeRecord, recordToCredential } from './keychain-record.js';
import { registerSecret } from './redact.js';
import type { SecretStore } from './secret-store.js';
import type { CredentialProvider, CredentialSource, RegistryCredential } from './types.js';

export interface CredentialsDeps {
  env?: NodeJS.ProcessEnv;
  /** Opens the OS keychain (native-bridge); throws KEYCHAIN_UNAVAILABLE where there is none. */
  openSecretStore?: () => Promise<SecretStore>;
  runHelper?: HelperRunner;
  /** Checks a credential against the registry's `/v2/` with the full auth flow; throws when refused. */
  verify: (registry: string, credential: RegistryCredential | undefined, opts: VerifyOptions) => Promise<unknown>;
  now?: () => Date;
}

/** How to reach the registry while verifying (as for the registry client). */
export interface VerifyOptions {
  plainHttp?: boolean | undefined;
  insecure?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface CredentialListing {
  registry: string;
  username?: string | undefined;
  kind: RegistryCredential['kind'] | 'unknown';
  source: CredentialSource | 'anonymous';
  /** The docker helper holding it, for source `credential-helper`. */
  helper?: string;
  verifiedAt?: string;
}

export interface ListResult {
  credentials: CredentialListing[];
  /** Sources that could not be read (e.g. the keychain is locked), with their code; never fatal for ls. */
  problems: Array<{ source: CredentialSource; code: string; message: string }>;
}

/** `host[:port]` as Flight Deck names registries (the keychain account). */
export function registryAccount(registry: string): string {
  const host = normalizeRegistryKey(registry);
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(host)) {
    throw new FlightDeckError('INVALID_INPUT', `${JSON.stringify(registry)} is not a registry host (host[:port]).`, {
      hint: 'Give the registry as host or host:port, e.g. registry.example.com or localhost:5000.',
    });
  }
  return host;
}

export function createCredentials(deps: CredentialsDeps) {
  const env = deps.env ?? process.env;
  const run = deps.runHelper ?? runHelper;
  const now = deps.now ?? (() => new Date());
  let store: Promise<SecretStore> | undefined;
  const keychain = (): Promise<SecretStore> => {
    if (!deps.openSecretStore) {
      return Promise.reject(new FlightDeckError('KEYCHAIN_UNAVAILABLE', 'No keychain backend is wired into this process.'));
    }
    store ??= deps.openSecretStore().catch((err: unknown) => {
      store = undefined; // retry next time: the user may unlock it meanwhile
      throw err;
    });
    return store;
  };

  async function fromKeychain(account: string): Promise<RegistryCredential | undefined> {
    const value = await (await keychain()).get(account);
    return value === null ? undefined : recordToCredential(decodeRecord(value));
  }

  /**
   * The provider the registry client uses. `flag` and the env token are handed out only for their
   * registry (`flag.registry`, `tokenRegistry`: the command's target). A locked keychain falls through to docker config, never to a plaintext store. */
  function provider(flag?: FlagCredential, tokenRegistry?: string): CredentialProvider {
    const early = envCredentialProvider({ env, flag, tokenRegistry });
    return async (registry, signal) => {
      const first = await early(registry, signal);
      if (first) return first;
      const account = registryAccount(registry);
      try {
        const stored = await fromKeychain(account);
        if (stored) return stored;
      } catch (err) {
        if (!(err instanceof FlightDeckError && err.code === 'KEYCHAIN_UNAVAILABLE')) throw err;
      }
      const docker = await readDockerConfig(env);
      return docker ? dockerCredential(docker, account, run, signal) : undefined;
    };
  }

  return {
    provider,

    /**
     * Verify against the registry, then store in the keychain. Nothing is stored when either step fails.
     * The registry answers first, so a wrong password is REGISTRY_UNAUTHORIZED even on a machine without a
     * keychain; a right one that cannot be kept is KEYCHAIN_UNAVAILABLE saying the registry accepted it.
     */
    async login(registry: string, credential: RegistryCredential, opts: VerifyOptions = {}): Promise<CredentialListing> {
      registerSecret(credential.kind === 'basic' ? credential.password : credential.token);
      const account = registryAccount(registry);
      await deps.verify(account, credential, opts);
      const verifiedAt = now().toISOString();
      const secrets = await keychain().catch((err: unknown) => {
        if (!(err instanceof FlightDeckError && err.code === 'KEYCHAIN_UNAVAILABLE')) throw err;
        throw new FlightDeckError('KEYCHAIN_UNAVAILABLE', `${account} accepted the credentials, but they cannot be kept: ${err.message}`, {
          hint: err.hint,
          cause: err,
          details: { registry: account },
        });
      });
      await secrets.set(account, encodeRecord(credential, verifiedAt));
      return { registry: account, username: 'username' in credential ? credential.username : undefined, kind: credential.kind, source: 'keychain', verifiedAt };
    },

    async logout(registry: string): Promise<{ registry: string; removed: boolean }> {
      const account = registryAccount(registry);
      return { registry: account, removed: await (await keychain()).delete(account) };
    },

    /** Re-verify the credential Flight Deck would use now; records the time when it came from the keychain. */
    async test(registry: string, opts: VerifyOptions = {}): Promise<CredentialListing> {
      const account = registryAccount(registry);
      const credential = await provider(undefined, account)(account, opts.signal);
      await deps.verify(account, credential, opts);
      const verifiedAt = now().toISOString();
      if (credential?.source === 'keychain') await (await keychain()).set(account, encodeRecord(credential, verifiedAt));
      return credential
        ? {
            registry: account,
            username: 'username' in credential ? credential.username : undefined,
            kind: credential.kind,
            source: credential.source,
            verifiedAt,
          }
        : { registry: account, kind: 'unknown', source: 'anonymous', verifiedAt };
    },

    /** Every credential Flight Deck can see, with where it comes from; never a secret. */
    async list(signal?: AbortSignal): Promise<ListResult> {
      const credentials: CredentialListing[] = [];
      const problems: ListResult['problems'] = [];
      const envVar = ['FLIGHTDECK_REGISTRY_TOKEN', 'ORAS_REGISTRY_TOKEN'].find((k) => env[k]?.trim());
      if (envVar) credentials.push({ registry: "(each command's target registry)", username: `$${envVar}`, kind: 'bearer', source: 'env' });
      try {
        const secrets = await keychain();
        for (const account of (await secrets.accounts()).sort()) {
          const value = await secrets.get(account);
          if (value === null) continue;
          const r = decodeRecord(value);
          credentials.push({
            registry: account,
            username: r.username,
            kind: r.kind,
            source: 'keychain',
            ...(r.verifiedAt ? { verifiedAt: r.verifiedAt } : {}),
          });
        }
      } catch (err) {
        const e = err instanceof FlightDeckError ? err : new FlightDeckError('KEYCHAIN_UNAVAILABLE', String(err));
        problems.push({ source: 'keychain', code: e.code, message: e.message });
      }
      try {
        const docker = await readDockerConfig(env);
        if (docker) {
          for (const d of await listDockerCredentials(docker, run, signal)) {
            credentials.push({ registry: d.registry, username: d.username, kind: 'unknown', source: d.source, ...(d.helper ? { helper: d.helper } : {}) });
          }
        }
      } catch (err) {
        const e = err instanceof FlightDeckError ? err : new FlightDeckError('INTERNAL', String(err));
        problems.push({ source: 'docker-config', code: e.code, message: e.message });
      }
      return { credentials, problems };
    },
  };
}

export type Credentials = ReturnType<typeof createCredentials>;
