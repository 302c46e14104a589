/**
 * Contract entries of the app itself: version and doctor. Browser-safe (bundled into the renderer).
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../errors.js';

export const CapabilitySchema = z.object({
  id: z.enum(['keychain', 'serial', 'usb', 'registry', 'electron']),
  label: z.string(),
  status: z.enum(['ok', 'warn', 'missing']),
  summary: z.string(),
  /** Stable error code when status is not ok. */
  code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]).optional(),
  hint: z.string().optional(),
});
export type Capability = z.infer<typeof CapabilitySchema>;

export const DoctorReportSchema = z.object({
  version: z.string(),
  paths: z.object({ config: z.string(), data: z.string(), cache: z.string(), log: z.string() }),
  capabilities: z.array(CapabilitySchema),
});
export type DoctorReport = z.infer<typeof DoctorReportSchema>;

export const VersionInfoSchema = z.object({
  version: z.string(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  /** Absolute path of the embedded demo kit (an OCI layout), wherever the app is installed. */
  demoKit: z.string(),
});
export type VersionInfo = z.infer<typeof VersionInfoSchema>;

export const empty = z.object({}).strict();

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

