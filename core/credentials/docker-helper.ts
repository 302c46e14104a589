/**
 * The docker credential helper protocol (docker/docker-credential-helpers): `docker-credential-<name>`
 * with one argument, `get` | `store` | `erase` | `list`, talking JSON (or a bare server URL) over
 * stdin/stdout. Exit status non-zero with "credentials not found in native keychain" on stdout means
 * "nothing stored", not a failure.
 */
import { spawn } from 'node:child_process';
import { FlightDeckError } from '../errors.js';
import { registerSecret } from './redact.js';

export interface HelperCredential {
  ServerURL: string;
  Username: string;
  Secret: string;
}

const NOT_FOUND = /credentials not found/i;
const TIMEOUT_MS = 20_000;
const MAX_OUTPUT = 1024 * 1024;

export type HelperRunner = (
  helper: string,
  action: 'get' | 'store' | 'erase' | 'list',
  input: string,
  signal?: AbortSignal,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Run `docker-credential-<helper> <action>` with `input` on stdin; bounded in time and output size. */
export const runHelper: HelperRunner = (helper, action, input, signal) =>
  new Promise((resolve, reject) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
      reject(new FlightDeckError('CONFIG_INVALID', `Credential helper name ${JSON.stringify(helper)} is not a valid program name.`));
      return;
    }
    const program = `docker-credential-${helper}`;
    const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'], signal });
    // Our own timer, not spawn's `timeout`: that one outlives a helper that failed to start (ENOENT) and
    // holds the process open for the whole timeout.
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let stdout = '';
    let stderr = '';
    let size = 0;
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUT) child.kill('SIGKILL');
      else stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new FlightDeckError('TOOL_MISSING', `The docker credential helper ${program} is not on PATH.`, {
              hint: `Install ${program}, or remove "${helper}" from credsStore/credHelpers in your docker config.json.`,
              cause: err,
            })
          : new FlightDeckError('CREDENTIAL_HELPER_FAILED', `${program} ${action} failed: ${err.message}`, { cause: err }),
      );
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a helper that exits without reading stdin
    child.stdin.end(input);
  });

function failed(helper: string, action: string, out: { stdout: string; stderr: string }): FlightDeckError {
  const said = (out.stdout.trim() || out.stderr.trim().split('\n').pop() || 'no output').slice(0, 200);
  return new FlightDeckError('CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} ${action} failed: ${said}.`);
}

/** `get`: the credential for a server, or undefined when the helper holds none. */
export async function helperGet(helper: string, serverUrl: string, run: HelperRunner = runHelper, signal?: AbortSignal): Promise<HelperCredential | undefined> {
  const out = await run(helper, 'get', serverUrl, signal);
  const { code, stdout } = out;
  if (code !== 0) {
    if (NOT_FOUND.test(stdout)) return undefined;
    throw failed(helper, 'get', out);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new FlightDeckError('CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} get answered with invalid JSON.`);
  }
  const c = parsed as Partial<HelperCredential>;
  if (typeof c.Username !== 'string' || typeof c.Secret !== 'string') {
    throw new FlightDeckError('CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} get answered without Username/Secret.`);
  }
  registerSecret(c.Secret);
  return { ServerURL: typeof c.ServerURL === 'string' ? c.ServerURL : serverUrl, Username: c.Username, Secret: c.Secret };
}

export async function helperStore(helper: string, cred: HelperCredential, run: HelperRunner = runHelper): Promise<void> {
  registerSecret(cred.Secret);
  const out = await run(helper, 'store', JSON.stringify(cred));
  if (out.code !== 0) throw failed(helper, 'store', out);
}

export async function helperErase(helper: string, serverUrl: string, run: HelperRunner = runHelper): Promise<boolean> {
  const out = await run(helper, 'erase', serverUrl);
  if (out.code === 0) return true;
  if (NOT_FOUND.test(out.stdout)) return false;
  throw failed(helper, 'erase', out);
}

/** `list`: server URL -> username (never secrets). */
export async function helperList(helper: string, run: HelperRunner = runHelper, signal?: AbortSignal): Promise<Record<string, string>> {
  const out = await run(helper, 'list', '', signal);
  if (out.code !== 0) throw failed(helper, 'list', out);
  try {
    const parsed = JSON.parse(out.stdout || '{}') as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    throw new FlightDeckError('CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} list answered with invalid JSON.`);
  }
}
