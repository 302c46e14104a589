/**
 * The types every area's handlers are written against: what a composition root hands to core (ApiDeps),
 * what each handler factory receives (ApiContext) and what it returns (AreaHandlers). They live apart from
 * service.ts, which imports the handlers, so that no handler imports the module that imports it.
 */
import type { Handlers } from './dispatch.js';
import type { Method } from './contract.js';
import type { CapabilityProbe } from '../doctor/doctor.js';
import type { FlightDeckPaths } from '../config/paths.js';
import type { Credentials } from '../credentials/credentials.js';
import type { FlagCredential } from '../credentials/env.js';
import type { SecretStore } from '../credentials/secret-store.js';
import type { RegistryAccess, ScopedRegistryFlags } from '../oci/access.js';
import type { DeployPorts, EmulatorPort } from '../deploy/ports.js';

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
  /**
   * Connection flags of the CLI command (`--ca-file`, `--cert-dir`, `-H`, ...) and the registry they are
   * for; read at call time. Set by the CLI only: the web api and the UI never pass flags. They do name
   * files, through config.json: `registry.settings.save` (Settings → Registries, in the app and in the
   * browser window of `flightdeck serve` alike) stores CA, client certificate and key paths. Whoever holds
   * the app or the web host's session token acts as the local user, who can edit config.json anyway; what
   * must never happen is the api handing back what such a file holds: the files are checked when saved
   * and read when used by core/registries/pem-files.ts (regular files only, no content in any error), and
   * answers carry their paths only (docs/security.md).
   */
  registryFlags?: ScopedRegistryFlags;
  /** Where non-fatal warnings of the registry settings go (CLI: stderr); absent: dropped. */
  warn?: (message: string) => void;
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
