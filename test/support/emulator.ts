import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/emulator.js';

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
