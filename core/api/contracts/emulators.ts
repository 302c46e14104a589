/**
 * Contract entries of the local emulator: the reference dev kit started by the app itself (the Devices
 * screen's "Start local emulator"), on TCP 127.0.0.1 with any free port, listed by `devices.list` while it
 * runs. One per app process. Browser-safe: zod only.
 */
import { z } from 'zod';
import { LocalEmulatorSchema } from '../../deploy/schema.js';

export const emulatorsContract = {
  'emulators.start': {
    summary: 'Start the local reference emulator of a platform (an id from platforms.list) on tcp://127.0.0.1 (any free port).',
    input: z.object({ platform: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/) }).strict(),
    output: LocalEmulatorSchema,
  },
  'emulators.stop': {
    summary: 'Stop the local emulator, if one runs; its slots stay on disk.',
    input: z.object({}).strict(),
    output: z.object({ stopped: LocalEmulatorSchema.nullable() }),
  },
  'emulators.local': {
    summary: 'The local emulator this app started, if one runs.',
    input: z.object({}).strict(),
    output: z.object({ emulator: LocalEmulatorSchema.nullable() }),
  },
} as const;
