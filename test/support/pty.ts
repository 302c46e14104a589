import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './ports.js';

export interface PtyPair {
  /** The host's end (what a USB-serial adapter would be). */
  host: string;
  /** The device's end. */
  device: string;
  /** Stop socat (by its PID) and remove the links. */
  close(): Promise<void>;
}

/** A linked pair of pseudo terminals from socat: bytes written to one end are read at the other. */
export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-pty-'));
  const host = path.join(dir, 'host');
  const device = path.join(dir, 'device');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(async () => existsSync(host) && existsSync(device), 'socat pty pair', 5000);
  return {
    host,
    device,
    close: async () => {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
