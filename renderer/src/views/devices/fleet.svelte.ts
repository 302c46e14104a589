import { api } from '../../lib/api.js';
import { Task } from '../../lib/task.svelte.js';
import { deployProgress } from '../../lib/deploy-progress.js';
import type { Progress } from '../../lib/progress.js';
import type { DeployResultView, FleetEvent, FleetResult, Input } from '../../../../core/api/contract.js';
import type { TimedEvent } from '../../lib/deploy-progress.js';

/** One device of a fleet deploy, as its row in the live table shows it. */
export interface FleetRow {
  /** The reference deploy.fleet was given (URI or name); its events carry it as `device`. */
  device: string;
  phase?: string;
  progress?: Progress;
  /** Set once the device is done (its `result` event, then the call's output). */
  ok?: boolean;
  error?: { code: string; message: string; hint: string };
  result?: DeployResultView;
}

/**
 * A deploy.fleet call on the Devices screen: one row per device, updated live from the call's events
 * (tagged with `device`), completed from its output; cancel aborts the whole call (devices that had
 * committed keep their receipts).
 */
export class FleetDeploy {
  readonly task = new Task<FleetResult>(() => undefined);
  rows: FleetRow[] = $state([]);
  /** Each device's phase and progress events (not state: rows are). */
  #events: Record<string, TimedEvent[]> = {};

  get running(): boolean {
    return this.task.running;
  }

  /** `expected`: the devices known up front (shown as waiting until their first event). */
  async start(input: Input<'deploy.fleet'>, expected: string[]): Promise<FleetResult | undefined> {
    this.#events = {};
    this.rows = expected.map((device) => ({ device }));
    const value = await this.task.run((o) =>
      api.call('deploy.fleet', input, {
        ...o,
        onEvent: (e) => {
          this.apply({ ...e, at: performance.now() });
          o.onEvent?.(e);
        },
      }),
    );
    for (const entry of value?.results ?? []) {
      const row = this.#row(entry.device);
      row.ok = entry.ok;
      if (entry.error) row.error = entry.error;
      if (entry.result) {
        row.result = entry.result;
        row.progress = { done: entry.result.size, total: entry.result.size, detail: entry.result.outcome };
      }
    }
    return value;
  }

  cancel(): void {
    this.task.cancel();
  }

  /** Fold one event into its device's row. */
  apply(e: FleetEvent & { at: number }): void {
    const row = this.#row(e.device);
    if (e.type === 'result') {
      row.ok = e.ok;
      // The result event carries the device's full error (code, message, hint), as the call's output will.
      if (!e.ok && e.error) row.error = e.error;
      return;
    }
    if (e.type === 'log') return;
    const events = (this.#events[e.device] ??= []);
    events.push(e);
    if (e.type === 'phase') row.phase = e.phase;
    row.progress = deployProgress(events);
  }

  #row(device: string): FleetRow {
    const found = this.rows.find((r) => r.device === device);
    if (found) return found;
    this.rows.push({ device });
    return this.rows.at(-1)!;
  }
}
