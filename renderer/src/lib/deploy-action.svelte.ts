import { api } from './api.js';
import { Task } from './task.svelte.js';
import { deployProgress, type TimedEvent } from './deploy-progress.js';
import type { ApiEvent } from '../../../core/api/client.js';
import type { DeployResultView, Input } from '../../../core/api/contract.js';

/** The module a deploy sent: the `!module` part of its payload name (bundle!wasm/x.wasm → x), else the name. */
export function payloadModule(payload: string): string {
  const inner = payload.includes('!') ? payload.slice(payload.lastIndexOf('!') + 1) : payload;
  return inner.replace(/^.*[\\/]/, '').replace(/\.wasm$/, '');
}

/**
 * One deploy.run the UI started: its task (result, coded error, cancel), its phase and upload events for
 * the bar (cleared when the next run starts), and whether the payload runs after commit.
 */
export class DeployAction {
  readonly task = new Task<DeployResultView, TimedEvent>((events) => deployProgress(events));
  events: TimedEvent[] = $state([]);
  run = $state(false);
  input: Input<'deploy.run'> | undefined = $state();

  get running(): boolean {
    return this.task.running;
  }

  /** `onLog`: the payload's output lines (deploy with run). */
  async start(input: Input<'deploy.run'>, onLog?: (e: ApiEvent) => void): Promise<DeployResultView | undefined> {
    this.events = [];
    this.run = input.run === true;
    this.input = input;
    return this.task.run((o) =>
      api.call('deploy.run', input, {
        ...o,
        onEvent: (e) => {
          if (e.type === 'log') return onLog?.(e);
          const timed = { ...e, at: performance.now() };
          this.events = [...this.events, timed];
          o.onEvent(timed);
        },
      }),
    );
  }

  cancel(): void {
    this.task.cancel();
  }

  /** Forget the last deploy (its bar, result and error): "Flash another". */
  reset(): void {
    this.task.cancel();
    this.events = [];
    this.task.value = undefined;
    this.task.error = undefined;
    this.task.progress = undefined;
  }
}
