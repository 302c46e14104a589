/**
 * What every area's handlers share, built from what the composition root hands to core: the paths, the
 * credential sources and the registry access. service.ts (every area at once) and lazy.ts (one area at a
 * time) both start here.
 */
import type { ApiContext, ApiDeps } from './context.js';
import { resolvePaths } from '../config/paths.js';
import { createCredentials } from '../credentials/credentials.js';
import { checkRegistryAuth } from '../oci/client.js';
import { createRegistryAccess } from '../oci/access.js';

export function createApiContext(deps: ApiDeps): ApiContext {
  const paths = deps.paths ?? resolvePaths();
  const credentials = createCredentials({
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.openSecretStore ? { openSecretStore: deps.openSecretStore } : {}),
    verify: async (registry, credential, opts) =>
      checkRegistryAuth(registry, credential, { ...(await access.clientOptions(registry, opts)), signal: opts.signal }),
  });
  const access = createRegistryAccess(paths, () => credentials.provider(deps.flagCredential, deps.commandRegistry), {
    flags: () => deps.registryFlags,
    warn: (message) => deps.warn?.(message),
    ...(deps.env ? { env: deps.env } : {}),
  });
  return { paths, deps, credentials, registry: access };
}
