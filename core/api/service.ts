import type { Handlers } from './dispatch.js';
import type { ApiDeps } from './context.js';
import { createApiContext } from './compose.js';
import { appHandlers } from './handlers/app.js';
import { ociHandlers } from './handlers/oci.js';
import { credentialsHandlers } from './handlers/credentials.js';
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
  const ctx = createApiContext(deps);
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
