/**
 * The limits the emulator enforces and the interim payload check uses, one row per platform.
 * INTERIM: the platform profiles of issue 5 (core/platforms, assets/platforms/*.json) replace this table;
 * keep the ids in step with them.
 */
import { FlightDeckError } from '../errors.js';

export interface PlatformLimits {
  id: string;
  name: string;
  /** Bytes of linear memory a payload may use. */
  memory: number;
  /** Hardware threads a payload may use (1: no shared memory). */
  threads: number;
}

const MiB = 1024 * 1024;

export const PLATFORM_LIMITS: Readonly<Record<string, PlatformLimits>> = {
  dreamcast: { id: 'dreamcast', name: 'Sega Dreamcast', memory: 16 * MiB, threads: 1 },
  vita: { id: 'vita', name: 'PlayStation Vita', memory: 512 * MiB, threads: 4 },
  'v6r-small': { id: 'v6r-small', name: 'V6R small', memory: 128 * MiB, threads: 2 },
  'v6r-medium': { id: 'v6r-medium', name: 'V6R medium', memory: 512 * MiB, threads: 4 },
  'v6r-large': { id: 'v6r-large', name: 'V6R large', memory: 2048 * MiB, threads: 8 },
};

export function platformLimits(id: string): PlatformLimits {
  const limits = PLATFORM_LIMITS[id];
  if (!limits) {
    throw new FlightDeckError('PLATFORM_UNKNOWN', `Unknown platform ${JSON.stringify(id)}; known: ${Object.keys(PLATFORM_LIMITS).join(', ')}.`, {
      details: { platform: id },
    });
  }
  return limits;
}
