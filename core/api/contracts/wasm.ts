/**
 * Contract entries of WASM inspection and platform checks, and the schemas of their results (the WASM
 * report, platform profiles, the versioned check report). Browser-safe: only zod and core/errors.
 * docs/schemas/*.json and assets/platforms/profile.schema.json are generated from these schemas
 * (`npm run docs:schemas`; a unit test fails when they are stale).
 */
import { z } from 'zod';

/** WASM features Flight Deck detects. The gated ones are those a platform profile accepts or refuses. */
export const GATED_FEATURES = [
  'threads',
  'simd',
  'relaxed-simd',
  'memory64',
  'multi-memory',
  'bulk-memory',
  'reference-types',
  'exception-handling',
  'tail-call',
  'gc',
] as const;
/** Part of WebAssembly 2.0 and accepted by every profile; reported for information. */
export const BASELINE_FEATURES = ['sign-extension', 'saturating-float-to-int'] as const;
export const FEATURES = [...GATED_FEATURES, ...BASELINE_FEATURES, 'component-model'] as const;
export type Feature = (typeof FEATURES)[number];
export type GatedFeature = (typeof GATED_FEATURES)[number];
export const FeatureSchema = z.enum(FEATURES);

const u = z.number().int().nonnegative();

export const MemorySchema = z.object({
  index: u,
  imported: z.boolean(),
  /** Pages of `pageSize` bytes. */
  initial: u,
  maximum: u.nullable(),
  shared: z.boolean(),
  memory64: z.boolean(),
  pageSize: u,
  initialBytes: u,
  maximumBytes: u.nullable(),
});
export type MemoryInfo = z.infer<typeof MemorySchema>;

export const TableSchema = z.object({
  index: u,
  imported: z.boolean(),
  refType: z.string(),
  initial: u,
  maximum: u.nullable(),
  table64: z.boolean(),
});

export const GlobalSchema = z.object({ index: u, imported: z.boolean(), type: z.string(), mutable: z.boolean() });

const ExternKind = z.enum(['func', 'table', 'memory', 'global', 'tag', 'module', 'value', 'type', 'component', 'instance']);
export type ExternKind = z.infer<typeof ExternKind>;
export const ImportSchema = z.object({ module: z.string(), name: z.string(), kind: ExternKind });
export const ExportSchema = z.object({ name: z.string(), kind: ExternKind, index: u.nullable() });

export const SectionSchema = z.object({
  id: u,
  name: z.string(),
  /** Absolute offset of the section's first content byte. */
  offset: u,
  size: u,
  /** Number of entries, for vector sections. */
  count: u.optional(),
});

export const WasmReportSchema = z.object({
  kind: z.enum(['module', 'component']),
  version: u,
  size: u,
  sections: z.array(SectionSchema),
  memories: z.array(MemorySchema),
  tables: z.array(TableSchema),
  globals: z.array(GlobalSchema),
  imports: z.array(ImportSchema),
  exports: z.array(ExportSchema),
  start: u.nullable(),
  functions: z.object({ imported: u, defined: u }),
  /** Size of the code section (all function bodies). */
  codeBytes: u,
  data: z.object({ segments: u, passive: u, bytes: u }),
  customSections: z.array(z.object({ name: z.string(), size: u })),
  producers: z.record(z.string(), z.array(z.object({ name: z.string(), version: z.string() }))).nullable(),
  targetFeatures: z.array(z.object({ prefix: z.enum(['+', '-', '=']), name: z.string() })),
  /** Features found by decoding the binary (every instruction, every type), sorted. */
  features: z.array(FeatureSchema),
  /** Instructions decoded in the code section. */
  instructions: u,
  threads: z.object({
    uses: z.boolean(),
    sharedMemory: z.boolean(),
    /** Imports or canonical built-ins that spawn threads (wasi-threads `thread-spawn`, `thread.spawn*`). */
    spawn: z.array(z.string()),
  }),
  /** Cross-check of core modules with the JS engine's WebAssembly.validate. */
  validation: z.object({ checked: z.boolean(), valid: z.boolean().nullable(), engine: z.string(), note: z.string().optional() }),
  component: z
    .object({
      coreModules: u,
      components: u,
      coreInstances: u,
      instances: u,
      aliases: u,
      types: u,
      canons: u,
      /** Canonical built-ins beyond lift/lower/resource.{new,drop,rep} (async, streams, threads, ...). */
      advancedCanon: z.array(z.string()),
      /** Core instances in index order: instantiate `module` with `args`, or a bundle of inline `exports`. */
      coreInstanceDefs: z.array(
        z.object({
          index: u,
          module: u.nullable(),
          args: z.array(z.object({ name: z.string(), instance: u })),
          exports: z.array(z.object({ name: z.string(), sort: z.string(), index: u })),
        }),
      ),
      /** Component instances: instantiate `component` with `args`, or inline `exports`. Sorts: `func`, `core module`, ... */
      instanceDefs: z.array(
        z.object({
          index: u,
          component: u.nullable(),
          args: z.array(z.object({ name: z.string(), sort: z.string(), index: u })),
          exports: z.array(z.object({ name: z.string(), sort: z.string(), index: u })),
        }),
      ),
      /** Aliases: an export of an instance (`export`, `core export`) or a definition of an enclosing scope (`outer`). */
      aliasDefs: z.array(
        z.object({
          sort: z.string(),
          target: z.enum(['export', 'core export', 'outer']),
          instance: u.nullable(),
          name: z.string().nullable(),
          outer: u.nullable(),
          index: u.nullable(),
        }),
      ),
      /** Canonical definitions: `lift` (core func -> func of `type`), `lower`, resource and other built-ins, with options. */
      canonDefs: z.array(z.object({ op: z.string(), func: u.nullable(), type: u.nullable(), options: z.array(z.string()) })),
      /** Kind of each component type definition (`func`, `instance`, `component`, `resource`, `record`, `u32`, ...). */
      typeDefs: z.array(z.string()),
      /** Kind of each core type definition (`module`, `func`, `rec`, ...). */
      coreTypeDefs: z.array(z.string()),
    })
    .nullable(),
  /** Nested core modules and components of a component, in order. */
  get nested(): z.ZodArray<z.ZodObject<{ path: z.ZodString; report: typeof WasmReportSchema }>> {
    return z.array(z.object({ path: z.string(), report: WasmReportSchema }));
  },
  notes: z.array(z.string()),
});
export type WasmReport = z.infer<typeof WasmReportSchema>;

export const InputKindSchema = z.enum(['file', 'directory', 'bundle', 'oci-layout']);

export const InspectResultSchema = z.object({
  target: z.string(),
  inputKind: InputKindSchema,
  annotations: z.record(z.string(), z.string()),
  modules: z.array(z.object({ path: z.string(), sha256: z.string(), report: WasmReportSchema })),
});
export type InspectResult = z.infer<typeof InspectResultSchema>;

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

const target = z.string().min(1).max(4096).describe('A .wasm file, a directory, a .tar.gz bundle or oci:<dir>[:tag]');

export const wasmContract = {
  'platforms.list': {
    summary: 'Platform profiles: the built-in ones and the user’s (config dir platforms/*.json).',
    input: z.object({}).strict(),
    output: z.object({ platforms: z.array(PlatformEntrySchema) }),
  },
  'wasm.inspect': {
    summary: 'Inspect every WASM module or component in a target: memory, features, threads, sections.',
    input: z.object({ target, offline: z.boolean().optional() }).strict(),
    output: InspectResultSchema,
  },
  'wasm.check': {
    summary: 'Check every module in a target against one or more platform profiles.',
    input: z.object({ target, platforms: z.array(z.string().regex(PLATFORM_ID)).min(1).max(32), offline: z.boolean().optional() }).strict(),
    output: CheckReportSchema,
  },
} as const;
