import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'flightdeck.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The proxy variables, both cases, set empty: a test's CLI never inherits the machine's proxy settings. */
export const NO_PROXY_VARS: Readonly<Record<string, string>> = Object.fromEntries(
  ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((v) => [
    [v, ''],
    [v.toLowerCase(), ''],
  ]),
);

/** A private FLIGHTDECK_HOME so tests never touch the user's files. */
export function tempHome(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'fd-home-'));
}

/** Run the built CLI (dist/, produced by `npm run build`) as a user would. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flightdeck ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** One `--json` event line a CLI process prints on stderr (the fields the tests look at). */
export interface JsonEvent {
  event?: string;
  phase?: string;
  digest?: string;
  done?: number;
}

/**
 * Resolve once `until` holds for an event of a child's `--json` stderr (one JSON document a line); reject
 * with `why(code)` when the child exits first. Tests wait on the process's own events this way, never on time.
 */
export function waitForEvent(
  stderr: NodeJS.ReadableStream,
  until: (e: JsonEvent) => boolean,
  exited: Promise<unknown>,
  why: (code: unknown) => string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffered = '';
    stderr.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (until(JSON.parse(line) as JsonEvent)) resolve();
    });
    void exited.then((code) => reject(new Error(why(code))));
  });
}
