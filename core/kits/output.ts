/**
 * The output of `kit build`: claimed for the whole build with a cross-process lock beside it (two Flight
 * Deck processes never build to one output at once), refused when something is there already unless the
 * build replaces an old kit, and filled by one rename of the finished, fsynced temp kit built beside it.
 *
 * Replacing never writes over anything but a kit (a KIT.tar whose first entry is `blobs/`, or a KIT/
 * folder holding only oci-layout, index.json, kit-lock.json and blobs/), and only once the new kit is
 * complete: a tar is renamed over the old one (atomic); a folder, which rename cannot put over a non-empty
 * folder, moves the old one aside, renames the new one in and then removes the old one (the old folder is
 * put back if the second rename fails).
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { fsError } from '../oci/layout.js';
import { tryLock, type HeldLock } from '../oci/lock.js';
import { KIT_LOCK_FILE } from './tar.js';

/** What is at an output path: nothing, an old kit (of either format), or anything else. */
export type Existing = 'none' | 'kit' | 'other';

const DIR_KIT_ENTRIES = new Set(['oci-layout', 'index.json', KIT_LOCK_FILE, 'blobs']);

/** The lock of `output`: a hidden directory beside it (core/oci/lock.ts, proper-lockfile). */
export function outputLockPath(output: string): string {
  return path.join(path.dirname(output), `.${path.basename(output)}.flightdeck-lock`);
}

/** Whether `output` holds nothing, a kit written by `kit build`, or something else. */
export async function existingAt(output: string): Promise<Existing> {
  const st = await lstat(output).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw fsError(err, output);
  });
  if (!st) return 'none';
  if (st.isDirectory()) {
    const names = await readdir(output).catch(() => [] as string[]);
    return names.includes('oci-layout') && names.includes(KIT_LOCK_FILE) && names.every((n) => DIR_KIT_ENTRIES.has(n)) ? 'kit' : 'other';
  }
  if (!st.isFile() || st.size < 1024 || st.size % 512) return 'other';
  // A kit tar (core/kits/tar.ts) starts with the ustar header of its `blobs/` directory entry.
  const fh = await open(output, 'r').catch(() => undefined);
  if (!fh) return 'other';
  try {
    const head = Buffer.alloc(512);
    await fh.read(head, 0, 512, 0);
    const name = head.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    return name === 'blobs/' && head.subarray(257, 263).toString('latin1') === 'ustar\0' ? 'kit' : 'other';
  } finally {
    await fh.close();
  }
}

function refuseExisting(output: string, existing: Existing, replace: boolean): void {
  if (existing === 'other') {
    throw new FlightDeckError('INVALID_INPUT', `${output} already exists and is not a Flight Deck kit; a kit is never written over other files.`, {
      hint: 'Choose another --output, or move that file or folder away first.',
      details: { output },
    });
  }
  if (existing === 'kit' && !replace) {
    throw new FlightDeckError('KIT_OUTPUT_EXISTS', `${output} already exists: a kit is never written over an existing one unless it replaces it.`, {
      details: { output },
    });
  }
}

function busy(output: string, why: string): FlightDeckError {
  return new FlightDeckError('KIT_OUTPUT_BUSY', `${output}: ${why} (lock ${outputLockPath(output)}).`, { details: { output } });
}

/** An output claimed for one build. */
export interface ClaimedOutput {
  readonly output: string;
  /** What was there when the build started. */
  readonly existing: Existing;
  /** True once `place` put the new kit where an old kit was. */
  readonly replaced: boolean;
  /**
   * Put the finished temp kit `temp` (a file or folder beside the output, fsynced) in place; checked again
   * under the lock. The temp is gone afterwards when this succeeds, left to the caller when it throws.
   */
  place(temp: string): Promise<void>;
  release(): Promise<void>;
}

/**
 * Claim `output` (absolute) for a build: KIT_OUTPUT_BUSY while another process builds there,
 * KIT_OUTPUT_EXISTS when a kit is there and `replace` is false, INVALID_INPUT when anything else is there.
 */
export async function claimKitOutput(output: string, replace: boolean): Promise<ClaimedOutput> {
  const lockPath = outputLockPath(output);
  const lock: HeldLock | undefined = await tryLock(output, lockPath);
  if (!lock) throw busy(output, 'another Flight Deck process is building a kit here');
  let existing: Existing;
  try {
    existing = await existingAt(output);
    refuseExisting(output, existing, replace);
  } catch (err) {
    await lock.release();
    throw err;
  }
  let replaced = false;
  return {
    output,
    existing,
    get replaced() {
      return replaced;
    },
    async place(temp) {
      if (lock.compromised) throw busy(output, 'this build stalled and another process took its lock over; nothing was written');
      const now = await existingAt(output);
      refuseExisting(output, now, replace);
      if (now === 'none') {
        await rename(temp, output).catch((err: unknown) => {
          throw fsError(err, output);
        });
      } else {
        await swap(temp, output);
        replaced = true;
      }
      await syncDir(path.dirname(output));
    },
    release: () => lock.release(),
  };
}

/** Put `temp` in the place of the kit at `output`. */
async function swap(temp: string, output: string): Promise<void> {
  const [a, b] = await Promise.all([lstat(temp), lstat(output)]);
  if (a.isFile() && b.isFile()) {
    // One atomic rename: a reader sees the old kit or the new one.
    await rename(temp, output).catch((err: unknown) => {
      throw fsError(err, output);
    });
    return;
  }
  const aside = path.join(path.dirname(output), `.${path.basename(output)}.old-${randomBytes(4).toString('hex')}`);
  await rename(output, aside).catch((err: unknown) => {
    throw fsError(err, output);
  });
  try {
    await rename(temp, output);
  } catch (err) {
    await rename(aside, output).catch(() => {});
    throw fsError(err, output);
  }
  await rm(aside, { recursive: true, force: true }).catch(() => {});
}

/** fsync a folder, so a rename in it survives a power cut (not possible on every OS: then skipped). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  await fh
    .sync()
    .catch(() => {})
    .finally(() => fh.close());
}
