/**
 * Schemas of WASM inspection (core/wasm): the features Flight Deck detects and the WASM report.
 * The one home of these schemas; core/api/contracts/wasm.ts composes them. Browser-safe: zod only
 * (bundled into the renderer through the contract).
 */
import { z } from 'zod';

import { FEATURES } from './features.js';

export { GATED_FEATURES, BASELINE_FEATURES, FEATURES, type Feature, type GatedFeature } from './features.js';
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
