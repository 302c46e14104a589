/**
 * The WASM features Flight Deck detects, apart from the zod schemas of core/wasm/schema.ts (which re-exports
 * them): plain data, so the CLI lists them without building the wasm schemas.
 */
/** WASM features Flight Deck detects. The gated ones are those a platform profile accepts or refuses. */
export const GATED_FEATURES = [
  'threads',
  'simd',
  'relaxed-simd',
  'memory64',
  'multi-memory',
  'bulk-memory',
  'reference-types',
  'exception-handling',
  'tail-call',
  'gc',
] as const;
/** Part of WebAssembly 2.0 and accepted by every profile; reported for information. */
export const BASELINE_FEATURES = ['sign-extension', 'saturating-float-to-int'] as const;
export const FEATURES = [...GATED_FEATURES, ...BASELINE_FEATURES, 'component-model'] as const;
export type Feature = (typeof FEATURES)[number];
export type GatedFeature = (typeof GATED_FEATURES)[number];
