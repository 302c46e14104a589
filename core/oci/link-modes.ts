/**
 * How `pull --output` gives a file its bytes; apart from core/oci/schema.ts (which re-exports it) so the
 * CLI checks the flag without building the registry schemas. `auto`: share the store's verified copy
 * when the folder is on the store's file system (a clone, else a hard link); `copy`: always write an
 * independent file. See core/oci/extract.ts.
 */
export const LINK_MODES = ['auto', 'copy'] as const;
export type LinkMode = (typeof LINK_MODES)[number];

/** How one output file was made. */
export const OUTPUT_METHODS = ['clone', 'hardlink', 'copy'] as const;
export type OutputMethod = (typeof OUTPUT_METHODS)[number];
