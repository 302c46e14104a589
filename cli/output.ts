import { FlightDeckError, toFlightDeckError, type ErrorPayload } from '../core/errors.js';
import { redact, redactValue } from '../core/credentials/redact.js';

/** Byte sizes: the one format of the CLI, the check findings and the app (core/units.ts). */
export { formatBytes } from '../core/units.js';

export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  progress: boolean;
}

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

/** A handle on one long task's progress. */
export interface Progress {
  update(done: number, total?: number, detail?: string): void;
  finish(detail?: string): void;
}

const ESC = '\u001b[';

/**
 * All CLI output goes through here so that every channel is redacted and the modes stay consistent:
 * - human mode: results on stdout, messages and progress bars on stderr (bars only on a TTY);
 * - `--json`: exactly one JSON document on stdout (the result, or `{ "error": {...} }`), and progress as
 *   JSON lines on stderr (`{"event":"progress",...}`), so `flightdeck x --json | jq` always works.
 */
export class Output {
  readonly opts: GlobalOptions;
  private readonly s: Streams;
  private readonly colorOn: boolean;

  constructor(opts: GlobalOptions, streams: Streams) {
    this.opts = opts;
    this.s = streams;
    this.colorOn = opts.color && !opts.json && Boolean(streams.stderr.isTTY) && !('NO_COLOR' in streams.env);
  }

  private paint(code: string, text: string): string {
    return this.colorOn ? `${ESC}${code}m${text}${ESC}0m` : text;
  }
  red = (t: string) => this.paint('31', t);
  green = (t: string) => this.paint('32', t);
  yellow = (t: string) => this.paint('33', t);
  dim = (t: string) => this.paint('2', t);
  bold = (t: string) => this.paint('1', t);

  /** The command's result: JSON under --json, else the human rendering (suppressed by --quiet). */
  result<T>(value: T, human: (value: T) => string): void {
    if (this.opts.json) {
      this.s.stdout.write(JSON.stringify(redactValue(value), null, 2) + '\n');
    } else if (!this.opts.quiet) {
      const text = human(value);
      if (text) this.s.stdout.write(redact(text) + (text.endsWith('\n') ? '' : '\n'));
    }
  }

  /**
   * A document the user asked for on stdout (a SARIF log, JUnit XML): printed as is in every mode, even
   * --quiet, because it is the result itself.
   */
  document(text: string): void {
    this.s.stdout.write(redact(text) + (text.endsWith('\n') ? '' : '\n'));
  }

  /** Exit status a command sets without throwing (e.g. `check`: 1 when a rule fails). */
  exitCode = 0;

  /**
   * A long-running command's announcement (e.g. `emulate`'s address): one JSON line on stdout under
   * --json, so a script can read it before the command ends; the human text otherwise.
   */
  announce<T>(value: T, human: (value: T) => string): void {
    if (this.opts.json) this.s.stdout.write(JSON.stringify(redactValue(value)) + '\n');
    else this.s.stdout.write(redact(human(value)) + '\n');
  }

  /** Text from elsewhere (a payload's output), unformatted, redacted, to the stream it came from. */
  passthrough(stream: 'stdout' | 'stderr', text: string): void {
    this.s[stream].write(redact(text));
  }

  /** Clear a live progress line on a terminal, so the next message starts on a line of its own. */
  clearLine(): void {
    if (!this.opts.json && this.s.stderr.isTTY) this.s.stderr.write(`\r${ESC}2K`);
  }

  /** A message for people (stderr). Hidden by --quiet and --json. */
  info(message: string): void {
    if (!this.opts.quiet && !this.opts.json) this.s.stderr.write(redact(message) + '\n');
  }

  /** Diagnostics shown only with --verbose (as JSON lines under --json). */
  debug(message: string): void {
    if (!this.opts.verbose) return;
    if (this.opts.json) this.event({ event: 'log', level: 'debug', message });
    else this.s.stderr.write(this.dim(redact(message)) + '\n');
  }

  warn(message: string): void {
    if (this.opts.json) this.event({ event: 'log', level: 'warn', message });
    else if (!this.opts.quiet) this.s.stderr.write(`${this.yellow('warning')}: ${redact(message)}\n`);
  }

  /** A machine-readable event line (only under --json). */
  event(event: Record<string, unknown>): void {
    if (this.opts.json) this.s.stderr.write(JSON.stringify(redactValue(event)) + '\n');
  }

  /** Print an error the standard way and return the exit code to use. */
  error(err: unknown): number {
    const e = toFlightDeckError(err);
    const payload: ErrorPayload = redactValue(e.toJSON());
    if (this.opts.json) {
      this.s.stdout.write(JSON.stringify({ error: payload }, null, 2) + '\n');
    } else {
      this.s.stderr.write(`${this.red(`error[${payload.code}]`)}: ${payload.message}\n`);
      this.s.stderr.write(`  ${this.dim('hint:')} ${payload.hint}\n`);
      if (this.opts.verbose && e.cause !== undefined) {
        const cause = e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause);
        this.s.stderr.write(this.dim(redact(`  cause: ${cause}`)) + '\n');
      }
    }
    return e.exitCode;
  }

  /**
   * Lines redrawn in place on a TTY (a live table, at most 10 redraws a second); nothing under --json,
   * --quiet, --no-progress or without a TTY.
   */
  live(): { draw(lines: string[]): void; done(): void } {
    const { json, quiet, progress } = this.opts;
    if (json || quiet || !progress || !this.s.stderr.isTTY) return { draw() {}, done() {} };
    const stream = this.s.stderr;
    let shown = 0;
    let last = 0;
    let pending: string[] | undefined;
    const paint = (lines: string[]) => {
      stream.write((shown ? `${ESC}${shown}F` : '') + lines.map((l) => `${ESC}2K${redact(l)}\n`).join(''));
      shown = lines.length;
      pending = undefined;
    };
    return {
      draw: (lines) => {
        pending = lines;
        if (Date.now() - last < 100) return;
        last = Date.now();
        paint(lines);
      },
      done: () => pending && paint(pending),
    };
  }

  /**
   * Progress for a long task: a redrawn bar on a TTY, JSON lines under --json, nothing otherwise
   * (or with --no-progress / --quiet).
   */
  progress(task: string): Progress {
    const { json, quiet, progress } = this.opts;
    if (json) {
      let last = 0;
      return {
        update: (done, total, detail) => {
          const now = Date.now();
          if (now - last < 100 && (total === undefined || done < total)) return;
          last = now;
          this.event({ event: 'progress', task, done, ...(total === undefined ? {} : { total }), ...(detail ? { detail } : {}) });
        },
        finish: (detail) => this.event({ event: 'done', task, ...(detail ? { detail } : {}) }),
      };
    }
    if (quiet || !progress || !this.s.stderr.isTTY) return { update() {}, finish() {} };
    const stream = this.s.stderr;
    let last = 0;
    const draw = (line: string) => stream.write(`\r${ESC}2K${redact(line)}`);
    return {
      update: (done, total, detail) => {
        const now = Date.now();
        if (now - last < 50 && (total === undefined || done < total)) return;
        last = now;
        draw(renderBar(task, done, total, detail, Math.min(stream.columns ?? 80, 120)));
      },
      finish: (detail) => {
        draw(`${this.green('✔')} ${task}${detail ? ` ${this.dim(detail)}` : ''}`);
        stream.write('\n');
      },
    };
  }
}

/** One line: `task [#####-----]  42% detail`, fitted to the terminal width. */
export function renderBar(task: string, done: number, total: number | undefined, detail: string | undefined, columns: number): string {
  const tail = detail ? ` ${detail}` : '';
  if (!total || total <= 0) return `${task} ${done}${tail}`.slice(0, columns - 1);
  const ratio = Math.max(0, Math.min(1, done / total));
  const pct = `${Math.floor(ratio * 100)}`.padStart(3) + '%';
  const width = Math.max(10, Math.min(40, columns - task.length - pct.length - tail.length - 6));
  const filled = Math.round(ratio * width);
  return `${task} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}${tail}`.slice(0, columns - 1);
}

export { FlightDeckError };
