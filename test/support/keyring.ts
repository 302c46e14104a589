import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './ports.js';

export interface TestKeyring {
  /** Environment for child processes (the CLI, secret-tool) that must use this keyring. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exited;
}

/**
 * A real Secret Service: a private D-Bus session bus and gnome-keyring-daemon (secrets component),
 * unlocked with a test password, all under a temp dir and stopped by PID. With `applyToProcess`, this
 * process's DBUS_SESSION_BUS_ADDRESS points at it too, so in-process keytar/@napi-rs/keyring use it
 * (each Vitest test file runs in its own process, and libsecret connects on first use).
 */
export async function startKeyring(opts: { applyToProcess?: boolean } = {}): Promise<TestKeyring> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-keyring-'));
  const run = path.join(dir, 'run');
  mkdirSync(run, { mode: 0o700 });
  const busPath = path.join(run, 'bus');
  const dbus = spawn('dbus-daemon', ['--session', '--nofork', `--address=unix:path=${busPath}`, '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let address = '';
  dbus.stdout!.on('data', (d: Buffer) => (address += d.toString()));
  await waitFor(async () => address.includes('\n') && existsSync(busPath), 'dbus-daemon');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: address.trim(),
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_RUNTIME_DIR: run,
  };
  const keyring = spawn('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--foreground'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  keyring.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  keyring.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  keyring.stdin!.end('test-keyring-password');
  // Ready when the daemon has claimed the Secret Service name on our bus.
  await waitFor(async () => {
    if (keyring.exitCode !== null) throw new Error(`gnome-keyring-daemon exited: ${out}`);
    const check = spawn(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      ],
      { env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let reply = '';
    check.stdout!.on('data', (d: Buffer) => (reply += d.toString()));
    await new Promise((r) => check.once('close', r));
    return reply.includes('boolean true');
  }, 'gnome-keyring-daemon');
  const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
  if (opts.applyToProcess) process.env.DBUS_SESSION_BUS_ADDRESS = env.DBUS_SESSION_BUS_ADDRESS;
  return {
    env,
    async stop() {
      if (opts.applyToProcess) {
        if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
        else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
      }
      await stopChild(keyring);
      await stopChild(dbus);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
