/**
 * Contract entries of the app's own sources (core/sources): what the home screen and the source picker
 * list without typing, and the modules of a bundle for the deploy form. Browser-safe: zod and the module's
 * schema only.
 */
import { z } from 'zod';
import { BundleModulesSchema, SourcesListSchema } from '../../sources/schema.js';

export const sourcesContract = {
  'sources.list': {
    summary: 'The demo kit shipped with the app, the content store (pulls and imported kits) and the configured registries, with their bundles by platform.',
    input: z.object({}).strict(),
    output: SourcesListSchema,
  },
  'sources.modules': {
    summary: 'The modules of a bundle (file path, oci: or registry reference), read verified from the content store, and the platform it was built for.',
    input: z
      .object({
        reference: z.string().min(1).max(4096),
        /** Resolve from the content store only (an imported kit). */
        offline: z.boolean().optional(),
      })
      .strict(),
    output: BundleModulesSchema,
  },
} as const;
