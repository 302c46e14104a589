import type { Capability } from './schema.js';
import { toFlightDeckError } from '../errors.js';

export type CapabilityId = Capability['id'];
export type ProbeResult = Omit<Capability, 'id' | 'label'>;

/** One capability check. Adapters in native-bridge implement the ones that touch the OS. */
export interface CapabilityProbe {
  id: CapabilityId;
  label: string;
  run(signal: AbortSignal): Promise<ProbeResult>;
}

export const PROBE_TIMEOUT_MS = 8_000;

/**
 * Run every probe in parallel. A probe that throws or hangs is reported as missing, never crashes the
 * report: doctor must work on the most broken machine.
 */
export async function runProbes(probes: CapabilityProbe[], timeoutMs = PROBE_TIMEOUT_MS): Promise<Capability[]> {
  return Promise.all(
    probes.map(async (probe): Promise<Capability> => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<ProbeResult>((resolve) => {
        timer = setTimeout(() => {
          controller.abort();
          resolve({
            status: 'missing',
            summary: `No answer within ${Math.round(timeoutMs / 1000)} s.`,
            code: 'INTERNAL',
            hint: 'The check hung; re-run `flightdeck doctor --verbose` to see where.',
          });
        }, timeoutMs);
      });
      try {
        const result = await Promise.race([probe.run(controller.signal), timeout]);
        return { id: probe.id, label: probe.label, ...result };
      } catch (err) {
        const e = toFlightDeckError(err);
        return { id: probe.id, label: probe.label, status: 'missing', summary: e.message, code: e.code, hint: e.hint };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
