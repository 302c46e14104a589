/**
 * Contract entries of the registry client and the content store (core/oci). Browser-safe: zod only.
 */
import { z } from 'zod';
import { progressEvents } from './events.js';
import {
  CacheListSchema,
  CachePruneSchema,
  CacheVerifySchema,
  ListResultSchema,
  MasterManifestSchema,
  PullEventsSchema,
  PullResultSchema,
  PushEventsSchema,
  PushResultSchema,
  RefInspectSchema,
} from '../../oci/schema.js';
import { LINK_MODES } from '../../oci/link-modes.js';

const connection = {
  /** true: plain HTTP, false: force HTTPS (even for localhost); unset: localhost → http, others https. */
  plainHttp: z.boolean().optional(),
  /** Skip TLS certificate verification. */
  insecure: z.boolean().optional(),
};

const ref = z.string().min(1).max(1024);

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
        /** How output files get their bytes (core/oci/extract.ts): `auto` shares the store's verified copy when it can. */
        linkMode: z.enum(LINK_MODES).optional(),
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
