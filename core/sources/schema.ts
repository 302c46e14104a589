/**
 * Schemas of the app's own sources of bundles (core/sources): the demo kit shipped with the app, the local
 * content store (pulls and imported kits) and the configured registries. Browser-safe: zod only.
 */
import { z } from 'zod';

/** What an artifact is to a user who wants to check or deploy it. */
export const ArtifactKindSchema = z.enum(['bundle', 'wasm', 'other']);
export type ArtifactKind = z.infer<typeof ArtifactKindSchema>;

export const SourceArtifactSchema = z.object({
  /** A reference wasm.check and deploy.run take as it is (an `oci:` target, or a registry reference). */
  reference: z.string(),
  /** repository:tag, short, for lists. */
  name: z.string(),
  repository: z.string(),
  /** Every tag naming the same manifest, newest date first, `latest` first of all. */
  tags: z.array(z.string()),
  digest: z.string(),
  kind: ArtifactKindSchema,
  /** The platform the artifact is annotated for (`flight.target-platform`), if any. */
  platform: z.string().optional(),
  /** Pass `offline: true` with the reference: it is in the content store only (an imported kit). */
  offline: z.boolean(),
});
export type SourceArtifact = z.infer<typeof SourceArtifactSchema>;

export const SourceSchema = z.object({
  id: z.string(),
  kind: z.enum(['demo', 'store', 'registry']),
  label: z.string(),
  /** The folder (demo kit, store) or host (registry). */
  location: z.string(),
  artifacts: z.array(SourceArtifactSchema),
  /** Why a source shows no artifacts (unreadable, or a registry that is browsed on demand). */
  note: z.string().optional(),
});
export type Source = z.infer<typeof SourceSchema>;

export const SourcesListSchema = z.object({
  sources: z.array(SourceSchema),
  /** Nothing configured yet: no registry in the config and an empty content store. The home screen offers the demo kit. */
  firstRun: z.boolean(),
});
export type SourcesList = z.infer<typeof SourcesListSchema>;

export const BundleModulesSchema = z.object({
  reference: z.string(),
  kind: ArtifactKindSchema,
  /** The bundle's own platform (its manifest.json), if it is a bundle. */
  platform: z.string().optional(),
  /** The modules a deploy can pick (`module`), in the bundle's order; empty for a single .wasm. */
  modules: z.array(z.object({ name: z.string(), file: z.string() })),
});
export type BundleModules = z.infer<typeof BundleModulesSchema>;
