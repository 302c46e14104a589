/**
 * What every composition root (CLI and web host, Electron's api worker) hands to core: the machine
 * probes, the OS keychain and the device ports, all implemented here and loaded lazily.
 */
import type { ApiDeps } from '../core/api/service.js';
import { openSecretStore } from './keychain/index.js';
import { nativeProbes } from './probes.js';
import { deployPorts } from './transports.js';

export function nativeApiDeps(): ApiDeps {
  return { probes: nativeProbes, openSecretStore: () => openSecretStore(), deploy: deployPorts };
}
