/**
 * Contract entries of the app itself: version and doctor. Browser-safe (bundled into the renderer).
 */
import { z } from 'zod';
import { DoctorReportSchema, VersionInfoSchema } from '../../doctor/schema.js';

const empty = z.object({}).strict();

export const appContract = {
  'app.version': {
    summary: 'Version of Flight Deck and its runtime.',
    input: empty,
    output: VersionInfoSchema,
  },
  'doctor.run': {
    summary: 'Which capabilities work on this machine, with a fix hint for each missing one.',
    input: z
      .object({
        /** Registries to check for reachability, in addition to the configured ones. */
        registries: z.array(z.string().min(1).max(255)).max(32).optional(),
      })
      .strict(),
    output: DoctorReportSchema,
  },
} as const;
