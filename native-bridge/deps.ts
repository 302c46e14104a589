/**
 * What every composition root (CLI and web host, Electron's api worker) hands to core: the machine
 * probes, the OS keychain, the device ports and the local emulator, all implemented here and loaded lazily.
 */
import type { ApiDeps } from '../core/api/service.js';
import { openSecretStore } from './keychain/index.js';
import { nativeProbes } from './probes.js';
import { deployPorts } from './transports.js';
import { emulatorPort } from './emulators.js';

export function nativeApiDeps(): ApiDeps {
  return { probes: nativeProbes, openSecretStore: () => openSecretStore(), deploy: deployPorts, emulators: emulatorPort };
}
