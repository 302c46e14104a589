/**
 * Interim credential provider (until the credentials module lands): CLI flags first
 * (`--username` + `--password-stdin`, Basic), then `FLIGHTDECK_REGISTRY_TOKEN` / `ORAS_REGISTRY_TOKEN`
 * (a ready Bearer token). Every secret is registered for redaction the moment it is read.
 */
import { registerSecret } from './redact.js';
import type { CredentialProvider, RegistryCredential } from './types.js';

export interface FlagCredential {
  username: string;
  password: string;
  /** Only for this registry (host[:port]); undefined = any registry the command talks to. */
  registry?: string | undefined;
}

export function envCredentialProvider(opts: { env?: NodeJS.ProcessEnv; flag?: FlagCredential | undefined } = {}): CredentialProvider {
  const env = opts.env ?? process.env;
  const flag = opts.flag;
  if (flag) registerSecret(flag.password);
  return async (registry: string): Promise<RegistryCredential | undefined> => {
    if (flag && (!flag.registry || flag.registry === registry)) {
      return { kind: 'basic', username: flag.username, password: flag.password, source: 'flag' };
    }
    const token = env.FLIGHTDECK_REGISTRY_TOKEN?.trim() || env.ORAS_REGISTRY_TOKEN?.trim();
    if (token) {
      registerSecret(token);
      return { kind: 'bearer', token, source: 'env' };
    }
    return undefined;
  };
}
