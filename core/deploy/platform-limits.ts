/**
 * The limits a device enforces, derived from a platform profile (core/platforms): the payload budget
 * (total memory less the runtime's reserve) and the thread count. The emulator serves with them and
 * reports them in HELLO.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { findProfiles } from '../platforms/profiles.js';

export interface PlatformLimits {
  id: string;
  name: string;
  /** Bytes of linear memory a payload may use. */
  memory: number;
  /** Hardware threads a payload may use (1: no shared memory). */
  threads: number;
  /** Whether the platform has 64-bit memories (memory64). */
  memory64: boolean;
}

/** Limits of a platform id (built in or a user profile); PLATFORM_UNKNOWN for an unknown id. */
export async function platformLimits(id: string, paths: FlightDeckPaths): Promise<PlatformLimits> {
  const [entry] = await findProfiles(paths, [id]);
  const p = entry!.profile;
  return { id: p.id, name: p.name, memory: entry!.budgetBytes, threads: p.threads.max, memory64: p.features.memory64 };
}
