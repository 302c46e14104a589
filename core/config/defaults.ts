/**
 * Defaults of config.json that modules outside config.ts need, without its zod schema (which brings the
 * registry settings' schemas): core/oci/cache.ts reads the prune grace period at start-up.
 */
/** How long a blob no manifest references stays in the content store before `cache prune` removes it. */
export const DEFAULT_PRUNE_GRACE_SECONDS = 3600;
