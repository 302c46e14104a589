/** What `kit build --include` may add beyond the bundles; apart from core/kits/schema.ts (which re-exports it) so the CLI checks the flag without building the kit schemas. */
export const KIT_INCLUDES = ['bindings', 'wit'] as const;
