import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/emulator.js';
import { BIN, ROOT } from './cli.js';

export function stateDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'fd-kit-'));
}

/** An in-process emulator on 127.0.0.1, port 0. */
export function tcpEmulator(opts: Partial<EmulatorOptions> & { stateDir: string }): Promise<Emulator> {
  return startEmulator({ platform: 'v6r-small', listen: 'tcp://127.0.0.1:0', checkpointBytes: 16 << 10, ...opts });
}

export interface SlotsOnDisk {
  active: 'A' | 'B' | null;
  A: Buffer | null;
  B: Buffer | null;
  upload: { sha256: string; size: number; slot: string; durable: number } | null;
}

/** What the device holds, read straight from its state directory. */
export function readSlots(dir: string): SlotsOnDisk {
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, f));
    } catch {
      return null;
    }
  };
  const state = read('state.json');
  const upload = read('upload.json');
  const parsed = state ? (JSON.parse(state.toString()) as { active: 'A' | 'B' | null; slots: Record<'A' | 'B', { sha256: string } | null> }) : null;
  return {
    active: parsed?.active ?? null,
    A: parsed?.slots.A ? read('slots/A.wasm') : null,
    B: parsed?.slots.B ? read('slots/B.wasm') : null,
    upload: upload ? JSON.parse(upload.toString()) : null,
  };
}

/** The committed payload's bytes. */
export function activePayload(dir: string): Buffer | null {
  const s = readSlots(dir);
  return s.active ? s[s.active] : null;
}

export interface EmulatorProcess {
  uri: string;
  pid: number;
  name: string;
  stderr: () => string;
  /** Resolves with the exit code and signal once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (a clean stop: it unregisters itself) and wait. */
  stop(): Promise<void>;
}

/** `flightdeck emulate --json ...` from dist/, as a separate process that can be killed or crash. */
export async function spawnEmulator(args: string[], env: NodeJS.ProcessEnv = {}): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [BIN, 'emulate', '--json', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${stderr}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    void exited.then(() => reject(new Error(`emulator exited: ${stderr}`)));
  });
  const announced = JSON.parse(line) as { uri: string; pid: number; name: string };
  return {
    ...announced,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
