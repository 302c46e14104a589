/**
 * Schemas of the events the registry client streams (core/oci): per-blob progress of a pull or a kit
 * build, per-blob progress of a push, and the notice of a registry request about to be retried. The one
 * home of these schemas: core/api/contracts/oci.ts and kits.ts compose them, and core/oci/pull.ts,
 * push.ts and retry.ts take their types from here. Browser-safe: zod only (bundled into the renderer
 * through the contract).
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
/** A content digest as descriptors carry it (core/oci/reference.ts checks the same grammar). */
const digest = z.string().regex(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/);
const mediaType = z.string().min(1).max(255);
/** `org.opencontainers.image.title` of a layer: a file name. */
const title = z.string().max(4096);

export const BLOB_PHASES = ['start', 'bytes', 'done', 'skipped', 'retry'] as const;

/** One blob of a pull: started (at `done`, when resuming), bytes so far, done, already stored, or retried. */
export const BlobEventSchema = z.object({
  type: z.literal('progress'),
  task: z.literal('blob'),
  phase: z.enum(BLOB_PHASES),
  digest,
  /** Absent for a blob without a title (config, untitled layer). */
  title: title.optional(),
  mediaType,
  done: count,
  total: count,
  /** On `done`, for a registry with mirrors: the endpoint (`host/repo`) that served the blob. */
  endpoint: z.string().max(1024).optional(),
});
export type BlobProgressEvent = z.infer<typeof BlobEventSchema>;
/** The blob event as core/oci/pull.ts reports it, before the handler names its type and task. */
export type BlobEvent = Omit<BlobProgressEvent, 'type' | 'task'>;

export const PUSH_PHASES = ['exists', 'mounted', 'bytes', 'done'] as const;

/** One file of a push: already in the registry, mounted from another repository, bytes sent, done. */
export const PushEventSchema = z.object({
  type: z.literal('progress'),
  task: z.literal('push'),
  phase: z.enum(PUSH_PHASES),
  digest,
  title,
  done: count,
  total: count,
});
export type PushProgressEvent = z.infer<typeof PushEventSchema>;
export type PushEvent = Omit<PushProgressEvent, 'type' | 'task'>;

/**
 * A registry request about to be retried (docs/cli.md: the `retry` event of `pull` and `push`): which
 * registry and request, why, the attempt coming out of `of`, and the wait before it.
 */
export const RetryEventSchema = z.object({
  type: z.literal('retry'),
  registry: z.string().min(1).max(255),
  /** `METHOD /path` without the query. */
  request: z.string().min(1).max(8192),
  reason: z.string().max(4096),
  /** 1-based number of the retry about to be made. */
  attempt: z.number().int().positive(),
  of: count,
  waitMs: z.number().nonnegative(),
});
export type RetryEvent = z.infer<typeof RetryEventSchema>;
export type RetryNotice = Omit<RetryEvent, 'type'>;

/** What a kit build will fetch, before it fetches: artifacts, their bytes, and the bytes not yet stored. */
export const KitPlanEventSchema = z.object({
  type: z.literal('plan'),
  artifacts: count,
  totalBytes: count,
  downloadBytes: count,
});
export type KitPlanEvent = z.infer<typeof KitPlanEventSchema>;

/** The events of `registry.pull`. */
export const PullEventsSchema = z.discriminatedUnion('type', [BlobEventSchema, RetryEventSchema]);
/** The events of `registry.push`. */
export const PushEventsSchema = z.discriminatedUnion('type', [PushEventSchema, RetryEventSchema]);
/** The events of `kit.build`: its plan, then the blobs it pulls. */
export const KitBuildEventsSchema = z.discriminatedUnion('type', [KitPlanEventSchema, BlobEventSchema]);
