/**
 * The composition root every front end (CLI and web host, Electron's api worker) starts from: it wires
 * the adapters of native-bridge/ (machine probes, OS keychain, device transports) and the reference
 * emulator of emulator/ into the ports core declares. The only folder allowed to import both.
 */
import type { ApiDeps } from '../core/api/context.js';
import { openSecretStore } from '../native-bridge/keychain/index.js';
import { nativeProbes } from '../native-bridge/probes.js';
import { deployPorts } from '../native-bridge/transports.js';
import { emulatorPort } from './emulators.js';

export function nativeApiDeps(): ApiDeps {
  return { probes: nativeProbes, openSecretStore: () => openSecretStore(), deploy: deployPorts, emulators: emulatorPort };
}
