import type { Handlers } from './dispatch.js';
import { runProbes, type CapabilityProbe } from '../doctor/doctor.js';
import { registryProbe } from '../doctor/registry-probe.js';
import { loadConfig } from '../config/config.js';
import { packageVersion } from '../config/package.js';
import { resolvePaths, type FlightDeckPaths } from '../config/paths.js';

/** What the composition root (CLI, Electron main, web host) hands to core: ports and settings. */
export interface ApiDeps {
  paths?: FlightDeckPaths;
  /** Machine probes from native-bridge (keychain, serial, usb, electron). */
  probes: CapabilityProbe[];
}

/** FlightDeckApi: one handler per contract entry, composed from core modules. */
export function createHandlers(deps: ApiDeps): Handlers {
  const paths = deps.paths ?? resolvePaths();
  return {
    async 'app.version'() {
      return { version: packageVersion(), node: process.versions.node, platform: process.platform, arch: process.arch };
    },
    async 'doctor.run'(input) {
      const config = await loadConfig(paths);
      const registries = [...new Set([...config.registries, ...(input.registries ?? [])])];
      const capabilities = await runProbes([...deps.probes, registryProbe(registries, config.plainHttp)]);
      return {
        version: packageVersion(),
        paths: { config: paths.config, data: paths.data, cache: paths.cache, log: paths.log },
        capabilities,
      };
    },
  };
}
