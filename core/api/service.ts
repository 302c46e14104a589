import type { Handlers } from './dispatch.js';
import type { ApiContext, ApiDeps } from './context.js';
import { resolvePaths } from '../config/paths.js';
import { appHandlers } from './handlers/app.js';
import { ociHandlers } from './handlers/oci.js';
import { credentialsHandlers } from './handlers/credentials.js';
import { createCredentials } from '../credentials/credentials.js';
import { checkRegistryAuth } from '../oci/client.js';
import { createRegistryAccess } from '../oci/access.js';
import { wasmHandlers } from './handlers/wasm.js';
import { deployHandlers } from './handlers/deploy.js';
import { reportsHandlers } from './handlers/reports.js';
import { kitsHandlers } from './handlers/kits.js';
import { emulatorsHandlers } from './handlers/emulators.js';
import { labHandlers } from './handlers/lab.js';
import { sourcesHandlers } from './handlers/sources.js';
import { filesHandlers } from './handlers/files.js';

/**
 * FlightDeckApi: one handler per contract entry, composed from core modules. Each area adds one spread
 * here; the `Handlers` type makes a missing entry a compile error.
 */
export function createHandlers(deps: ApiDeps): Handlers {
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
  const registry = access;
  const ctx: ApiContext = { paths, deps, credentials, registry };
  return {
    ...appHandlers(ctx),
    ...ociHandlers(ctx),
    ...credentialsHandlers(ctx),
    ...wasmHandlers(ctx),
    ...deployHandlers(ctx),
    ...reportsHandlers(),
    ...kitsHandlers(ctx),
    ...emulatorsHandlers(ctx),
    ...labHandlers(ctx),
    ...sourcesHandlers(ctx),
    ...filesHandlers(ctx),
  };
}
