import { api } from '../../lib/api.js';
import { Task } from '../../lib/task.svelte.js';
import type { ApiEvent } from '../../../../core/api/client.js';
import type { Output } from '../../../../core/api/contract.js';
import { consoleText } from './console-format.js';

export { clock } from './console-format.js';

export interface LogEntry {
  id: number;
  stream: string;
  text: string;
  /** When the line arrived (ms since the epoch). */
  at: number;
}

/** The kit's console: the last `limit` lines of run output and device log. */
export class LogLines {
  lines: LogEntry[] = $state([]);
  #next = 0;
  constructor(readonly limit = 1000) {}

  push(e: ApiEvent, at = Date.now()): void {
    const text = String(e.text ?? '').replace(/\r?\n$/, '');
    this.lines = [...this.lines.slice(-(this.limit - 1)), { id: this.#next++, stream: String(e.stream ?? 'device'), text, at }];
  }

  /** The lines as a text file: one `time stream text` a line. */
  text(lines: readonly LogEntry[] = this.lines): string {
    return consoleText(lines);
  }

  clear(): void {
    this.lines = [];
  }
}

/** The device picked on the Devices screen: its slot status, its console and the log follow, shared by the panels. */
export class SelectedDevice {
  readonly status = new Task<Output<'device.status'>>(null, { keep: true });
  readonly monitor = new Task<Output<'device.monitor'>>();
  readonly log = new LogLines();
  /** `name`: how the device list names it (a configured device or an emulator), for messages. */
  constructor(
    readonly ref: string,
    readonly name?: string,
  ) {}

  get label(): string {
    return this.name ?? this.ref;
  }

  refresh(): Promise<unknown> {
    return this.status.run((o) => api.call('device.status', { device: this.ref }, o));
  }

  /** Follow the device's log into the console until stopped (or `close`d). */
  toggleFollow(): void {
    if (this.monitor.running) return this.monitor.cancel();
    void this.monitor.run((o) =>
      api.call('device.monitor', { device: this.ref, follow: true }, { ...o, onEvent: (e) => e.type === 'log' && this.log.push(e) }),
    );
  }

  close(): void {
    this.monitor.cancel();
    this.status.cancel();
  }
}
