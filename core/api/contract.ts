/**
 * The one contract. Every operation the UI, the CLI or the web host can ask for is declared here once:
 * input schema, output schema, and for calls that stream, the schema of their events. Electron IPC, the preload bridge, the web host and the renderer client
 * are built from this table (see electron/main/main.ts and api-worker.ts, electron/preload/preload.ts,
 * cli/serve/web-host.ts, core/api/dispatch.ts and core/api/client.ts).
 *
 * This module must stay browser-safe: it is bundled into the renderer. Import only zod, core/errors, the
 * contracts/ modules and the schema homes core/<module>/schema.ts (which follow the same rule).
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { appContract } from './contracts/app.js';
import { ociContract } from './contracts/oci.js';
import { credentialsContract } from './contracts/credentials.js';
import { wasmContract } from './contracts/wasm.js';
import { deployContract } from './contracts/deploy.js';
import { reportsContract } from './contracts/reports.js';
import { kitsContract } from './contracts/kits.js';
import { emulatorsContract } from './contracts/emulators.js';
import { labContract } from './contracts/lab.js';
import { sourcesContract } from './contracts/sources.js';
import { filesContract } from './contracts/files.js';

export const ErrorPayloadSchema = z.object({
  code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  hint: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** An event of a running call. `progress` is the common one; other types pass through untouched. */
export const ApiEventSchema = z
  .object({
    type: z.string().min(1).max(64),
    /** What is progressing: blob, push, verify, inspect, check, ... */
    task: z.string().max(64).optional(),
    done: z.number().nonnegative().optional(),
    total: z.number().nonnegative().optional(),
    detail: z.string().max(4096).optional(),
  })
  .catchall(z.unknown());
export type ApiEvent = z.infer<typeof ApiEventSchema>;

/**
 * The api's public types in one import for its callers (CLI, renderer, tests): the schemas of the calls'
 * inputs, outputs and events, re-exported from their one home each, core/<module>/schema.ts. The
 * contracts/ files only compose these into `{ summary, input, output, events }` and export nothing else.
 */
export * from '../doctor/schema.js';
export * from '../oci/schema.js';
export * from '../credentials/schema.js';
export * from '../wasm/schema.js';
export * from '../platforms/schema.js';
export * from '../deploy/schema.js';
export * from '../kits/schema.js';
export * from '../lab/schema.js';
export * from '../registries/schema.js';
export * from '../sources/schema.js';
export * from '../uploads/schema.js';

/**
 * One table of every operation. Each area declares its entries in contracts/<area>.ts; this spread is the
 * only line an area adds here.
 */
export const contract = {
  ...appContract,
  ...ociContract,
  ...credentialsContract,
  ...wasmContract,
  ...deployContract,
  ...reportsContract,
  ...kitsContract,
  ...emulatorsContract,
  ...labContract,
  ...sourcesContract,
  ...filesContract,
} as const;

export type Contract = typeof contract;
export type Method = keyof Contract;
export type Input<M extends Method> = z.input<Contract[M]['input']>;
export type Output<M extends Method> = z.output<Contract[M]['output']>;
/**
 * The events a call of M emits: its declared `events` schema, else any ApiEvent (progress and the like).
 * Distributes over a union of methods, so a context for several methods may emit only what each declares.
 */
export type EventOf<M extends Method> = M extends Method ? (Contract[M] extends { events: z.ZodTypeAny } ? z.output<Contract[M]['events']> : ApiEvent) : never;

/** The declared event schema of a method, if it has one. */
export function eventSchema(method: Method): z.ZodTypeAny | undefined {
  const spec = contract[method];
  return 'events' in spec ? spec.events : undefined;
}

export const METHODS = Object.keys(contract) as Method[];

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/** Every call returns an envelope, never a thrown stack across a process boundary. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: z.infer<typeof ErrorPayloadSchema> };

export const EnvelopeSchema = z.union([z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: ErrorPayloadSchema })]);
