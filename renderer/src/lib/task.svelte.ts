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

/** `E`: the events the call emits, as its contract entry declares them (any ApiEvent by default). */
export class Task<T, E = ApiEvent> {
  running = $state(false);
  error: ShownError | undefined = $state();
  value: T | undefined = $state();
  progress: Progress | undefined = $state();
  #controller: AbortController | undefined;
  #fold: (events: E[], e: E) => Progress | undefined;
  #events: E[] = [];

  constructor(fold?: (events: E[], e: E) => Progress | undefined) {
    this.#fold = fold ?? (latestProgress as unknown as (events: E[], e: E) => Progress | undefined);
  }

  async run(call: (opts: TaskOptions<E>) => Promise<T>): Promise<T | undefined> {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.#events = [];
    this.running = true;
    this.error = undefined;
    this.progress = undefined;
    try {
      const value = await call({
        signal: controller.signal,
        onEvent: (e) => {
          this.#events.push(e);
          this.progress = this.#fold(this.#events, e);
        },
      });
      if (this.#controller === controller) this.value = value;
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
