import type { AreaHandlers, ApiContext } from '../context.js';
import { runProbes } from '../../doctor/doctor.js';
import { registryProbe } from '../../doctor/registry-probe.js';
import { loadConfig } from '../../config/config.js';
import { assetPath, packageVersion } from '../../config/package.js';

/** Handlers of the app's own entries (contracts/app.ts). */
export function appHandlers(ctx: ApiContext): AreaHandlers<'app.version' | 'doctor.run'> {
  const { paths, deps } = ctx;
  return {
    async 'app.version'() {
      return { version: packageVersion(), node: process.versions.node, platform: process.platform, arch: process.arch, demoKit: assetPath('demo-kit') };
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
