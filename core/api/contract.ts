/**
 * The one contract. Every operation the UI, the CLI or the web host can ask for is declared here once:
 * input schema, output schema. Electron IPC, the preload bridge, the web host and the renderer client
 * are built from this table (see electron/main/ipc.ts, cli/serve, core/api/client.ts).
 *
 * This module must stay browser-safe: it is bundled into the renderer. Import only zod and core/errors.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export const ErrorPayloadSchema = z.object({
  code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  hint: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

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
});
export type VersionInfo = z.infer<typeof VersionInfoSchema>;

const empty = z.object({}).strict();

export const contract = {
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

export type Contract = typeof contract;
export type Method = keyof Contract;
export type Input<M extends Method> = z.input<Contract[M]['input']>;
export type Output<M extends Method> = z.output<Contract[M]['output']>;

export const METHODS = Object.keys(contract) as Method[];

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/** Every call returns an envelope, never a thrown stack across a process boundary. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: z.infer<typeof ErrorPayloadSchema> };

export const EnvelopeSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorPayloadSchema }),
]);
