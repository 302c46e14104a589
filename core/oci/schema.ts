/**
 * Schemas of the events the registry client streams (core/oci): per-blob progress of a pull or a kit
 * build, per-blob progress of a push, and the notice of a registry request about to be retried. The one
 * home of these schemas: core/api/contracts/oci.ts and kits.ts compose them, and core/oci/pull.ts,
 * push.ts and retry.ts take their types from here. Browser-safe: zod only (bundled into the renderer
 * through the contract).
 */
import { z } from 'zod';
import { OUTPUT_METHODS } from './link-modes.js';
export { LINK_MODES, OUTPUT_METHODS, type LinkMode, type OutputMethod } from './link-modes.js';

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
/** The events of `kit.build`: its plan, then the blobs it pulls (and retries, a mirror's fallback included). */
export const KitBuildEventsSchema = z.discriminatedUnion('type', [KitPlanEventSchema, BlobEventSchema, RetryEventSchema]);

/** Results of the registry and content-store calls (registry.inspect, pull, push, list; cache list, verify, prune; master manifest). */
export const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z.object({ os: z.string().optional(), architecture: z.string().optional(), variant: z.string().optional() }).optional(),
});
export type DescriptorInfo = z.infer<typeof DescriptorSchema>;

export const RefInspectSchema = z.object({
  reference: z.string(),
  digest: z.string(),
  mediaType: z.string(),
  artifactType: z.string().optional(),
  size: z.number().int(),
  annotations: z.record(z.string(), z.string()),
  config: DescriptorSchema.optional(),
  layers: z.array(DescriptorSchema),
  manifests: z.array(DescriptorSchema),
  totalSize: z.number().int(),
});
export type RefInspect = z.infer<typeof RefInspectSchema>;

export const PullResultSchema = z.object({
  reference: z.string(),
  digest: z.string(),
  mediaType: z.string(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()),
  layers: z.array(DescriptorSchema),
  blobsDownloaded: z.number().int(),
  blobsSkipped: z.number().int(),
  bytesDownloaded: z.number().int(),
  files: z.array(
    z.object({
      title: z.string(),
      path: z.string(),
      digest: z.string(),
      size: z.number().int(),
      unpacked: z.boolean(),
      /** A plain file: a clone or hard link of the store's verified copy, or an independent copy. */
      method: z.enum(OUTPUT_METHODS).optional(),
    }),
  ),
  store: z.string(),
});
export type PullResultInfo = z.infer<typeof PullResultSchema>;

export const PushResultSchema = z.object({
  reference: z.string(),
  digest: z.string(),
  size: z.number().int(),
  layers: z.array(DescriptorSchema),
  uploaded: z.number().int(),
  skipped: z.number().int(),
  mounted: z.number().int(),
});
export type PushResultInfo = z.infer<typeof PushResultSchema>;

export const ListResultSchema = z.object({
  registry: z.string(),
  repository: z.string().optional(),
  kind: z.enum(['repositories', 'tags']),
  items: z.array(z.string()),
  note: z.string().optional(),
});
export type ListResult = z.infer<typeof ListResultSchema>;

export const CacheListSchema = z.object({
  root: z.string(),
  entries: z.array(
    z.object({
      reference: z.string(),
      digest: z.string(),
      mediaType: z.string(),
      artifactType: z.string().optional(),
      pulledAt: z.string().optional(),
      size: z.number().int(),
    }),
  ),
  totalBytes: z.number().int(),
  blobs: z.number().int(),
});
export type CacheList = z.infer<typeof CacheListSchema>;

export const CacheVerifySchema = z.object({
  checked: z.number().int(),
  bytes: z.number().int(),
  corrupt: z.array(z.object({ digest: z.string(), actual: z.string(), removed: z.boolean() })),
  partials: z.number().int(),
  /** Blobs found corrupt when read and set aside in the store's quarantine/ (the next pull fetches them again). */
  quarantined: z.array(z.object({ digest: z.string(), actual: z.string(), file: z.string(), quarantinedAt: z.string() })).optional(),
});
export type CacheVerify = z.infer<typeof CacheVerifySchema>;

export const CachePruneSchema = z.object({
  untagged: z.array(z.string()),
  removedBlobs: z.number().int(),
  freedBytes: z.number().int(),
  remainingBytes: z.number().int(),
});
export type CachePrune = z.infer<typeof CachePruneSchema>;

export const MasterManifestSchema = z.object({
  reference: z.string(),
  digest: z.string(),
  annotations: z.record(z.string(), z.string()),
  documents: z.array(z.object({ title: z.string(), mediaType: z.string(), content: z.unknown() })),
  /** `host/repository:tag` of every artifact the documents name (sorted). */
  artifacts: z.array(z.string()),
  /** The same artifacts with the digest the document pins (null when it pins none), category and platforms when given. */
  entries: z.array(
    z.object({
      reference: z.string(),
      repository: z.string(),
      tag: z.string().nullable(),
      digest: z.string().nullable(),
      category: z.string().nullable(),
      platforms: z.array(z.string()),
    }),
  ),
});
export type MasterManifestInfo = z.infer<typeof MasterManifestSchema>;
