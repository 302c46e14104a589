/**
 * What the registry client needs from the credentials module: one function that says how to
 * authenticate to a registry host. The credentials module (lookup order: flags, env, keychain, docker
 * config, credential helpers) implements it; tests and the CLI flags can pass their own.
 */

/** Where a credential was found (shown by `flightdeck credentials ls`, never the secret itself). */
export type CredentialSource = 'flag' | 'env' | 'keychain' | 'docker-config' | 'credential-helper';

export type RegistryCredential =
  /** Username + password: sent as Basic, or exchanged for a bearer token at the token realm. */
  | { kind: 'basic'; username: string; password: string; source: CredentialSource }
  /** OAuth2 refresh token (docker's `identitytoken`): exchanged at the token realm (grant_type=refresh_token). */
  | { kind: 'identity-token'; username?: string; token: string; source: CredentialSource }
  /** A ready bearer token: sent as `Authorization: Bearer` (ORAS_REGISTRY_TOKEN style). */
  | { kind: 'bearer'; token: string; source: CredentialSource };

/** Resolve credentials for `host[:port]`; undefined means anonymous. Must never log the secret. */
export type CredentialProvider = (registry: string, signal?: AbortSignal) => Promise<RegistryCredential | undefined>;
