import type { CapabilityProbe, ProbeResult } from './doctor.js';
import { registryBaseUrl } from '../oci/reference.js';

export { registryBaseUrl };

/**
 * Reachability of each registry's API root (`GET /v2/`). 200 and 401 both prove a registry answers
 * (401 only means credentials are needed, which is the credentials module's business).
 */
/**
 * `check` (given by the api: the registry client with each registry's effective settings: CAs, client
 * certificate, proxy) resolves to the status answered or rejects with a coded error; without it, a plain fetch.
 */
export function registryProbe(
  registries: readonly string[],
  plainHttp: readonly string[] = [],
  check?: (host: string, signal: AbortSignal) => Promise<{ ok: boolean; note: string }>,
): CapabilityProbe {
  return {
    id: 'registry',
    label: 'Registry reachability',
    async run(signal): Promise<ProbeResult> {
      if (registries.length === 0) {
        return {
          status: 'warn',
          summary: 'No registry configured; the embedded demo kit works offline.',
          hint: 'Add registries to config.json ("registries": ["host:port"]) or run `flightdeck doctor --registry HOST`.',
        };
      }
      const results = await Promise.all(
        registries.map(async (host) => {
          if (check) {
            try {
              return { host, ...(await check(host, signal)) };
            } catch (err) {
              return { host, ok: false, note: (err as { code?: string }).code ?? (err as Error).name };
            }
          }
          const url = `${registryBaseUrl(host, plainHttp)}/v2/`;
          try {
            const res = await fetch(url, { signal, redirect: 'manual' });
            await res.body?.cancel();
            const ok = res.status === 200 || res.status === 401;
            return { host, ok, note: ok ? `${res.status}` : `HTTP ${res.status}` };
          } catch (err) {
            const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
            return { host, ok: false, note: cause };
          }
        }),
      );
      const down = results.filter((r) => !r.ok);
      if (down.length === 0) {
        return { status: 'ok', summary: `${results.length} registr${results.length === 1 ? 'y' : 'ies'} answering: ${results.map((r) => r.host).join(', ')}.` };
      }
      return {
        status: 'missing',
        code: 'REGISTRY_UNREACHABLE',
        summary: `Not answering: ${down.map((r) => `${r.host} (${r.note})`).join(', ')}.`,
        hint: 'Check the host and port, your network or VPN; add the host to "plainHttp" in config.json if it has no TLS.',
      };
    },
  };
}
