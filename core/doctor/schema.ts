/**
 * Schemas of the doctor (core/doctor): one capability check and the doctor report. The one home of
 * these schemas; core/api/contracts/app.ts composes them. Browser-safe: zod and core/errors only.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

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

/** app.version: this build of Flight Deck, its runtime, and where its embedded demo kit is. */
export const VersionInfoSchema = z.object({
  version: z.string(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  /** Absolute path of the embedded demo kit (an OCI layout), wherever the app is installed. */
  demoKit: z.string(),
});
export type VersionInfo = z.infer<typeof VersionInfoSchema>;
