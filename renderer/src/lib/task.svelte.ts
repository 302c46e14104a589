import type { ApiEvent } from '../../../core/api/client.js';
import { toShownError, type ShownError } from './errors.js';
import { latestProgress, type Progress } from './progress.js';

export { blobProgress, type Progress } from './progress.js';

/**
 * One api call the UI runs: running flag, coded error, progress from the call's events, and cancel.
 * Progress of a pull arrives per blob; a fold such as `blobProgress` (progress.ts) makes one bar of the events.
 */
/** What a task hands its call: the abort signal and the sink of the call's events. */
export interface TaskOptions<E> {
  signal: AbortSignal;
  onEvent: (event: E) => void;
}

/** How a task treats its last value when it runs again. */
export interface TaskSettings {
  /**
   * Keep the last value on screen while the next run is under way: for lists refreshed in place (devices,
   * slots, the cache). An action (check, deploy, pull, build) never keeps one: a new run clears the last
   * result and error, so nothing stale stays below a run that is under way.
   */
  keep?: boolean;
}

/** `E`: the events the call emits, as its contract entry declares them (any ApiEvent by default). */
export class Task<T, E = ApiEvent> {
  running = $state(false);
  error: ShownError | undefined = $state();
  value: T | undefined = $state();
  progress: Progress | undefined = $state();
  #controller: AbortController | undefined;
  #fold: (events: E[], e: E) => Progress | undefined;
  #events: E[] = [];
  #keep: boolean;

  constructor(fold?: ((events: E[], e: E) => Progress | undefined) | null, settings: TaskSettings = {}) {
    this.#fold = fold ?? (latestProgress as unknown as (events: E[], e: E) => Progress | undefined);
    this.#keep = settings.keep === true;
  }

  async run(call: (opts: TaskOptions<E>) => Promise<T>): Promise<T | undefined> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.#events = [];
    this.running = true;
    this.error = undefined;
    this.progress = undefined;
    if (!this.#keep) this.value = undefined;
    try {
      const value = await call({
        signal: controller.signal,
        onEvent: (e) => {
          this.#events.push(e);
          this.progress = this.#fold(this.#events, e);
        },
      });
      if (this.#controller === controller) {
        this.value = value;
        // A success is complete: its bar shows 100 % whatever the last event said.
        const shown = this.progress as Progress | undefined;
        if (shown && shown.total > 0) this.progress = { ...shown, done: shown.total };
      }
      return value;
    } catch (err) {
      if (this.#controller === controller) this.error = toShownError(err);
      return undefined;
    } finally {
      if (this.#controller === controller) {
        this.running = false;
        this.#controller = undefined;
      }
    }
  }

  cancel(): void {
    this.#controller?.abort();
  }
}
