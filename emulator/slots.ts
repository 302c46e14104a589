/**
 * The emulator's durable A/B slots in its state directory:
 *   state.json          { active, slots: { A: {sha256,size}|null, B: ... } }  (temp, fsync, rename)
 *   upload.json         journal of the upload in progress { sha256, size, slot, durable }
 *   slots/X.partial     bytes of that upload (the first `durable` of them are fsynced)
 *   slots/X.wasm        a verified payload
 * The active slot is never written; COMMIT and ROLLBACK are one rename of state.json.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SlotName, type DeviceState } from '../core/deploy/protocol.js';

const Content = z.object({ sha256: z.string(), size: z.number().int() }).nullable();
const StateFile = z.object({ active: SlotName.nullable(), slots: z.object({ A: Content, B: Content }) });
type StateFile = z.infer<typeof StateFile>;
const Journal = z.object({ sha256: z.string(), size: z.number().int(), slot: SlotName, durable: z.number().int() });
type Journal = z.infer<typeof Journal>;

/** Named points inside durable operations where a test can crash the device. */
export type CrashHook = (point: 'commit-rename') => void;

export class SlotStore {
  readonly dir: string;
  state: StateFile;
  journal: Journal | null;
  private readonly crash: CrashHook;

  constructor(dir: string, crash: CrashHook = () => {}) {
    this.dir = dir;
    this.crash = crash;
    fs.mkdirSync(path.join(dir, 'slots'), { recursive: true });
    this.state = readJson(this.file('state.json'), StateFile) ?? { active: null, slots: { A: null, B: null } };
    this.journal = readJson(this.file('upload.json'), Journal);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  slotFile(slot: SlotName): string {
    return this.file(`slots/${slot}.wasm`);
  }

  partialFile(slot: SlotName): string {
    return this.file(`slots/${slot}.partial`);
  }

  inactive(): SlotName {
    return this.state.active === 'A' ? 'B' : 'A';
  }

  snapshot(platform: string): DeviceState {
    return { platform, active: this.state.active, slots: { ...this.state.slots }, upload: this.journal ? { ...this.journal } : null };
  }

  /** Replace state.json atomically; `crashPoint` lets a test kill the device between fsync and rename. */
  writeState(next: StateFile, crashPoint?: 'commit-rename'): void {
    writeAtomic(this.file('state.json'), JSON.stringify(next, null, 2), () => crashPoint && this.crash(crashPoint));
    this.state = next;
  }

  writeJournal(next: Journal | null): void {
    if (next) writeAtomic(this.file('upload.json'), JSON.stringify(next));
    else fs.rmSync(this.file('upload.json'), { force: true });
    syncDir(this.dir);
    this.journal = next;
  }

  /** Empty the inactive slot before reusing it (state first, so it is never listed while half-written). */
  clearSlot(slot: SlotName): void {
    if (this.state.slots[slot]) this.writeState({ ...this.state, slots: { ...this.state.slots, [slot]: null } });
    fs.rmSync(this.slotFile(slot), { force: true });
  }

  /** SHA-256 of a file, read in 1 MiB steps. */
  hashFile(file: string): string {
    const hash = createHash('sha256');
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
    return hash.digest('hex');
  }

  /** Move a verified partial into its slot file and record it in state.json (inactive). */
  install(slot: SlotName, sha256: string, size: number): void {
    fs.renameSync(this.partialFile(slot), this.slotFile(slot));
    syncDir(path.join(this.dir, 'slots'));
    this.writeState({ ...this.state, slots: { ...this.state.slots, [slot]: { sha256, size } } });
    this.writeJournal(null);
  }

  discardUpload(): void {
    if (this.journal) fs.rmSync(this.partialFile(this.journal.slot), { force: true });
    this.writeJournal(null);
  }
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function writeAtomic(file: string, text: string, beforeRename?: () => void): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  beforeRename?.();
  fs.renameSync(tmp, file);
  syncDir(path.dirname(file));
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
