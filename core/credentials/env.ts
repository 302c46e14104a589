/**
 * The early credential sources of the lookup order (docs/credentials.md): CLI flags first
 * (`--username` + `--password-stdin`, Basic), then `FLIGHTDECK_REGISTRY_TOKEN` / `ORAS_REGISTRY_TOKEN`
 * (a ready Bearer token). Both are scoped: they are given for the registry of the command's target and
 * are handed out for that registry only, never for another registry the command happens to talk to.
 * Every secret is registered for redaction the moment it is read.
 */
import { registerSecret } from './redact.js';
import type { CredentialProvider, RegistryCredential } from './types.js';

export interface FlagCredential {
  username: string;
  password: string;
  /** The registry (host[:port]) of the command's target: the only one these credentials are sent to. */
  registry: string;
}

/** Registry names compare case-insensitively (the host part is; the port is digits). */
function sameRegistry(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function envCredentialProvider(
  opts: {
    env?: NodeJS.ProcessEnv;
    flag?: FlagCredential | undefined;
    /** The registry of the command's target: the env token applies to it only (none: the token is not used). */
    tokenRegistry?: string | undefined;
  } = {},
): CredentialProvider {
  const env = opts.env ?? process.env;
  const { flag, tokenRegistry } = opts;
  if (flag) registerSecret(flag.password);
  return async (registry: string): Promise<RegistryCredential | undefined> => {
    if (flag && sameRegistry(flag.registry, registry)) {
      return { kind: 'basic', username: flag.username, password: flag.password, source: 'flag' };
    }
    const token = env.FLIGHTDECK_REGISTRY_TOKEN?.trim() || env.ORAS_REGISTRY_TOKEN?.trim();
    if (token) {
      registerSecret(token);
      if (tokenRegistry !== undefined && sameRegistry(tokenRegistry, registry)) return { kind: 'bearer', token, source: 'env' };
    }
    return undefined;
  };
}
