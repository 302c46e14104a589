/**
 * Schemas of platform profiles and platform checks (core/platforms): the profile, findings and the
 * versioned check report. The one home of these schemas; core/api/contracts/wasm.ts composes them.
 * docs/schemas/*.json and assets/platforms/profile.schema.json are generated from them
 * (`npm run docs:schemas`; a unit test fails when they are stale). Browser-safe: zod only.
 */
import { z } from 'zod';
import { FeatureSchema, GATED_FEATURES, InputKindSchema, type GatedFeature } from '../wasm/schema.js';

const u = z.number().int().nonnegative();

export const PLATFORM_ID = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export const PlatformProfileSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(PLATFORM_ID).describe('Stable id used on the command line (`--platform dreamcast`).'),
    name: z.string().min(1).max(120),
    description: z.string().max(2000).optional(),
    memory: z
      .object({
        total: z.number().int().positive().describe('Bytes of RAM the kit offers to the runtime and the payload.'),
        runtimeReserve: z.number().int().nonnegative().describe('Bytes the runtime needs for itself; the payload budget is total - runtimeReserve.'),
        fixed: z.boolean().describe('No virtual memory or overcommit: an unbounded memory maximum is an error.'),
      })
      .strict()
      .refine((m) => m.runtimeReserve < m.total, { message: 'runtimeReserve must be smaller than total' }),
    threads: z.object({ max: z.number().int().min(1).max(1024) }).strict(),
    features: z
      .object(Object.fromEntries(GATED_FEATURES.map((f) => [f, z.boolean()])) as Record<GatedFeature, z.ZodBoolean>)
      .strict()
      .describe('WASM features the platform accepts.'),
    componentModel: z
      .enum(['none', 'basic', 'full'])
      .describe('none: core modules only; basic: components using only lift/lower/resource built-ins; full: every built-in.'),
  })
  .strict();
export type PlatformProfile = z.infer<typeof PlatformProfileSchema>;

export const PlatformEntrySchema = z.object({
  profile: PlatformProfileSchema,
  budgetBytes: u,
  /** `builtin` or the user's profile file. */
  source: z.string(),
});
export type PlatformEntry = z.infer<typeof PlatformEntrySchema>;

export const SeveritySchema = z.enum(['error', 'warning', 'note']);
export type Severity = z.infer<typeof SeveritySchema>;

export const FindingSchema = z.object({
  ruleId: z.string(),
  severity: SeveritySchema,
  message: z.string(),
  /** The module path inside the target, or null for findings about the target as a whole. */
  module: z.string().nullable(),
  actual: z.union([z.number(), z.string()]).optional(),
  limit: z.union([z.number(), z.string()]).optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const ModuleSummarySchema = z.object({
  path: z.string(),
  kind: z.enum(['module', 'component']),
  size: u,
  sha256: z.string(),
  features: z.array(FeatureSchema),
  threads: z.boolean(),
  memory: z.object({
    initialBytes: u,
    /** null when a memory has no maximum. */
    maximumBytes: u.nullable(),
    codeBytes: u,
    dataBytes: u,
    /** initialBytes + codeBytes + dataBytes: what the module needs at instantiation. */
    requiredBytes: u,
  }),
});
export type ModuleSummary = z.infer<typeof ModuleSummarySchema>;

export const CHECK_REPORT_SCHEMA_ID = 'https://flightdeck.dev/schemas/check-report.v1.json';

export const CheckReportSchema = z.object({
  schema: z.literal('flightdeck.check-report/v1'),
  tool: z.object({ name: z.literal('flightdeck'), version: z.string() }),
  target: z.string(),
  inputKind: InputKindSchema,
  annotations: z.record(z.string(), z.string()),
  modules: z.array(ModuleSummarySchema),
  platforms: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      budgetBytes: u,
      maxThreads: u,
      fits: z.boolean(),
      findings: z.array(FindingSchema),
    }),
  ),
  rules: z.array(z.object({ id: z.string(), severity: SeveritySchema, summary: z.string() })),
  summary: z.object({ fits: z.boolean(), errors: u, warnings: u, notes: u }),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

/** A check report exported in a format CI systems read (check.export, `flightdeck check --format`). */
export const ReportFormatSchema = z.enum(['json', 'sarif', 'junit']);
export type ReportFormat = z.infer<typeof ReportFormatSchema>;

export const ExportedReportSchema = z.object({ filename: z.string(), mediaType: z.string(), content: z.string() });
export type ExportedReport = z.infer<typeof ExportedReportSchema>;
