/**
 * Contract entries of the registry client and the content store (core/oci). Browser-safe: zod only.
 */
import { z } from 'zod';
import { progressEvents } from './events.js';
import { PullEventsSchema, PushEventsSchema } from '../../oci/schema.js';

export * from '../../oci/schema.js';

const connection = {
  /** true: plain HTTP, false: force HTTPS (even for localhost); unset: localhost → http, others https. */
  plainHttp: z.boolean().optional(),
  /** Skip TLS certificate verification. */
  insecure: z.boolean().optional(),
};

const ref = z.string().min(1).max(1024);

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
  files: z.array(z.object({ title: z.string(), path: z.string(), digest: z.string(), size: z.number().int(), unpacked: z.boolean() })),
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
  artifacts: z.array(z.string()),
});
export type MasterManifestInfo = z.infer<typeof MasterManifestSchema>;

export const ociContract = {
  'registry.inspect': {
    summary: 'Resolve a reference and describe its manifest: media type, artifactType, annotations, layers and sizes.',
    input: z.object({ reference: ref, ...connection }).strict(),
    output: RefInspectSchema,
  },
  'registry.pull': {
    summary: 'Pull an artifact into the verified content store; optionally write its titled files to a folder.',
    input: z
      .object({
        reference: ref,
        output: z.string().min(1).max(4096).optional(),
        unpack: z.boolean().optional(),
        concurrency: z.number().int().min(1).max(16).optional(),
        platform: z.string().min(1).max(64).optional(),
        /** Only the content store (an imported kit): no network call at all. */
        offline: z.boolean().optional(),
        ...connection,
      })
      .strict(),
    output: PullResultSchema,
    events: PullEventsSchema,
  },
  'registry.push': {
    summary: 'Push files as an OCI artifact (one layer per file) with annotations and an artifactType.',
    input: z
      .object({
        reference: ref,
        files: z
          .array(z.object({ path: z.string().min(1).max(4096), mediaType: z.string().min(1).max(255).optional() }))
          .min(1)
          .max(256),
        annotations: z.record(z.string().min(1).max(255), z.string().max(4096)).optional(),
        artifactType: z.string().min(1).max(255).optional(),
        chunkSize: z.number().int().min(0).optional(),
        mountFrom: z.array(z.string().min(1).max(255)).max(16).optional(),
        ...connection,
      })
      .strict(),
    output: PushResultSchema,
    events: PushEventsSchema,
  },
  'registry.list': {
    summary: 'List the repositories of a registry (_catalog) or the tags of a repository.',
    input: z.object({ target: z.string().min(1).max(1024), ...connection }).strict(),
    output: ListResultSchema,
  },
  'registry.master': {
    summary: 'Read the Flight master manifest (default flight/shared-types/manifest:latest) and list the artifacts it names.',
    input: z
      .object({
        registry: z.string().min(1).max(255),
        /** repo:tag under the registry; default flight/shared-types/manifest:latest. */
        reference: z.string().min(1).max(1024).optional(),
        ...connection,
      })
      .strict(),
    output: MasterManifestSchema,
  },
  'cache.list': {
    summary: 'What the content store holds: tagged artifacts with sizes and pull times.',
    input: z.object({}).strict(),
    output: CacheListSchema,
  },
  'cache.verify': {
    summary: 'Re-hash every blob in the content store and report (or, with fix, delete) corrupt ones.',
    input: z.object({ fix: z.boolean().optional() }).strict(),
    output: CacheVerifySchema,
    events: progressEvents('verify'),
  },
  'cache.prune': {
    summary: 'Untag entries older than an age or beyond a size cap and delete unreferenced blobs.',
    input: z
      .object({
        olderThanMs: z.number().int().nonnegative().optional(),
        maxBytes: z.number().int().nonnegative().optional(),
      })
      .strict(),
    output: CachePruneSchema,
  },
} as const;
