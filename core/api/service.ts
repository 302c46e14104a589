import type { Handlers } from './dispatch.js';
import type { Method } from './contract.js';
import type { CapabilityProbe } from '../doctor/doctor.js';
import { resolvePaths, type FlightDeckPaths } from '../config/paths.js';
import { appHandlers } from './handlers/app.js';
import { deployHandlers, type DeployPorts } from './handlers/deploy.js';

/** What the composition root (CLI, Electron main, web host) hands to core: ports and settings. */
export interface ApiDeps {
  paths?: FlightDeckPaths;
  /** Machine probes from native-bridge (keychain, serial, usb, electron). */
  probes: CapabilityProbe[];
  /** Device transports, discovery and the payload check (native-bridge); absent: no device support. */
  deploy?: DeployPorts;
}

/** What every area's handler factory receives. */
export interface ApiContext {
  paths: FlightDeckPaths;
  deps: ApiDeps;
}

/** The handlers one area contributes (handlers/<area>.ts). */
export type AreaHandlers<M extends Method> = Pick<Handlers, M>;

/**
 * FlightDeckApi: one handler per contract entry, composed from core modules. Each area adds one spread
 * here; the `Handlers` type makes a missing entry a compile error.
 */
export function createHandlers(deps: ApiDeps): Handlers {
  const ctx: ApiContext = { paths: deps.paths ?? resolvePaths(), deps };
  return {
    ...appHandlers(ctx),
    ...deployHandlers(ctx),
  };
}
