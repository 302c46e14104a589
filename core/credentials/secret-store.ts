/** Port: the OS keychain. Service name is always `flightdeck`; the account is the registry host. */
export interface SecretStore {
  /** Which backend answers (`keytar`, `@napi-rs/keyring`). */
  readonly backend: string;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** True when something was deleted. */
  delete(account: string): Promise<boolean>;
  /** Accounts stored under the service (never the secrets). */
  accounts(): Promise<string[]>;
}

export const KEYCHAIN_SERVICE = 'flightdeck';
