import type { AreaHandlers, ApiContext } from '../context.js';
import { runProbes } from '../../doctor/doctor.js';
import { registryProbe } from '../../doctor/registry-probe.js';
import { configFile, loadConfig, registryHosts } from '../../config/config.js';
import { assetPath, packageVersion } from '../../config/package.js';
import { RegistryClient, statusError } from '../../oci/client.js';
import { loadTlsMaterial, settingsReport } from '../../registries/settings.js';
import { testConnection } from '../../registries/connection-test.js';
import { listRegistrySettings, removeRegistryEntry, saveRegistryEntry } from '../../registries/edit.js';
import { loadRegistriesConf } from '../../registries/registries-conf.js';
import type { RegistrySettingsReport } from '../../registries/schema.js';
import { FlightDeckError } from '../../errors.js';

/** Handlers of the app's own entries (contracts/app.ts). */
export function appHandlers(
  ctx: ApiContext,
): AreaHandlers<'app.version' | 'doctor.run' | 'registry.test' | 'registry.settings.list' | 'registry.settings.save' | 'registry.settings.remove'> {
  const { paths, deps } = ctx;
  const env = deps.env ?? process.env;
  const list = async () =>
    listRegistrySettings({
      file: configFile(paths),
      config: await loadConfig(paths),
      conf: await loadRegistriesConf(deps.registryFlags?.flags.registriesConf, env),
      env,
      settings: (host) => ctx.registry.settings(host),
    });
  return {
    'registry.settings.list': list,
    async 'registry.settings.save'(input) {
      await saveRegistryEntry(configFile(paths), input);
      return list();
    },
    async 'registry.settings.remove'(input) {
      await removeRegistryEntry(configFile(paths), input.host, input.revision);
      return list();
    },
    async 'app.version'() {
      return { version: packageVersion(), node: process.versions.node, platform: process.platform, arch: process.arch, demoKit: assetPath('demo-kit') };
    },
    async 'registry.test'(input, call) {
      const host = input.registry.toLowerCase();
      const conn = { plainHttp: input.plainHttp, insecure: input.insecure };
      const r = await ctx.registry.settings(host, conn);
      return testConnection(
        r,
        () => loadTlsMaterial(r),
        () => ctx.registry.clientOptions(host, conn),
        call.signal,
      );
    },
    async 'doctor.run'(input) {
      const config = await loadConfig(paths);
      const registries = [...new Set([...registryHosts(config), ...(input.registries ?? [])])];
      // Each registry with its effective settings, probed through the registry client (CAs, client
      // certificate, proxy, blocked), once and without retries.
      const check = async (host: string, signal: AbortSignal) => {
        const client = new RegistryClient(host, { ...(await ctx.registry.clientOptions(host, {})), retries: 0 });
        try {
          const res = await client.request({ method: 'GET', path: '/v2/', scopes: [], signal, retry: false }).catch((err: unknown) => {
            // 401 is an answer: the registry is there, credentials are the credentials module's business.
            if (err instanceof FlightDeckError && err.code === 'REGISTRY_UNAUTHORIZED') return undefined;
            throw err;
          });
          if (!res) return { ok: true, note: '401' };
          res.body.resume();
          if (res.status !== 200 && res.status !== 401) throw await statusError(host, res, 'API check /v2/');
          return { ok: true, note: String(res.status) };
        } finally {
          client.close();
        }
      };
      const capabilities = await runProbes([...deps.probes, registryProbe(registries, config.plainHttp, check)]);
      const settings: RegistrySettingsReport[] = [];
      for (const host of registries) {
        try {
          settings.push(settingsReport(await ctx.registry.settings(host)));
        } catch (err) {
          const e = err as FlightDeckError;
          settings.push({
            host,
            blocked: false,
            scheme: 'https',
            insecure: false,
            ca: [],
            headers: [],
            proxy: 'direct',
            mirrors: [],
            pullFromMirror: 'all',
            sources: {},
            warnings: [`[${e.code ?? 'ERROR'}] ${e.message}`],
          });
        }
      }
      return {
        version: packageVersion(),
        paths: { config: paths.config, data: paths.data, cache: paths.cache, log: paths.log },
        capabilities,
        ...(settings.length ? { registries: settings } : {}),
      };
    },
  };
}
