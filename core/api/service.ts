import type { Handlers } from './dispatch.js';
import type { Method } from './contract.js';
import type { CapabilityProbe } from '../doctor/doctor.js';
import { resolvePaths, type FlightDeckPaths } from '../config/paths.js';
import { appHandlers } from './handlers/app.js';
import { ociHandlers } from './handlers/oci.js';
import { credentialsHandlers } from './handlers/credentials.js';
import { createCredentials, type Credentials } from '../credentials/credentials.js';
import type { FlagCredential } from '../credentials/env.js';
import type { SecretStore } from '../credentials/secret-store.js';
import { loadConfig } from '../config/config.js';
import { checkRegistryAuth } from '../oci/client.js';
import { createRegistryAccess, type RegistryAccess } from '../oci/access.js';
import { wasmHandlers } from './handlers/wasm.js';
import { deployHandlers, type DeployPorts } from './handlers/deploy.js';
import { reportsHandlers } from './handlers/reports.js';
import { kitsHandlers } from './handlers/kits.js';
import { emulatorsHandlers, type EmulatorPort } from './handlers/emulators.js';

/** What the composition root (CLI, Electron main, web host) hands to core: ports and settings. */
export interface ApiDeps {
  paths?: FlightDeckPaths;
  /** Machine probes from native-bridge (keychain, serial, usb, electron). */
  probes: CapabilityProbe[];
  /** The OS keychain (native-bridge/keychain); absent: KEYCHAIN_UNAVAILABLE. */
  openSecretStore?: () => Promise<SecretStore>;
  /** Credentials given on the command line (`-u USER --password-stdin`); read at call time. */
  flagCredential?: FlagCredential;
  /**
   * The registry of the command's target (CLI): the only registry FLIGHTDECK_REGISTRY_TOKEN /
   * ORAS_REGISTRY_TOKEN is sent to. Unset (web host, app): the env token is not used.
   */
  commandRegistry?: string;
  /** Environment for credential lookup (tokens, DOCKER_CONFIG); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Device transports, discovery and the payload check (native-bridge); absent: no device support. */
  deploy?: DeployPorts;
  /** Starts the reference emulator in this process (the app's local emulator); absent: none. */
  emulators?: EmulatorPort;
}

/** What every area's handler factory receives. */
export interface ApiContext {
  paths: FlightDeckPaths;
  deps: ApiDeps;
  /** Where registry credentials come from (docs/credentials.md); the registry client asks `provider()`. */
  credentials: Credentials;
  /** Registry clients and pulls into the content store, with those credentials. */
  registry: RegistryAccess;
}

/** The handlers one area contributes (handlers/<area>.ts). */
export type AreaHandlers<M extends Method> = Pick<Handlers, M>;

/**
 * FlightDeckApi: one handler per contract entry, composed from core modules. Each area adds one spread
 * here; the `Handlers` type makes a missing entry a compile error.
 */
export function createHandlers(deps: ApiDeps): Handlers {
  const paths = deps.paths ?? resolvePaths();
  const credentials = createCredentials({
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.openSecretStore ? { openSecretStore: deps.openSecretStore } : {}),
    verify: async (registry, credential, opts) => {
      const config = await loadConfig(paths);
      return checkRegistryAuth(registry, credential, { ...opts, plainHttpHosts: config.plainHttp });
    },
  });
  const registry = createRegistryAccess(paths, () => credentials.provider(deps.flagCredential, deps.commandRegistry));
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
  };
}
