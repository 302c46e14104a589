/**
 * What the JS engine running Flight Deck can validate. Each gated feature is probed once with a tiny
 * module that uses it (built with wat2wasm); a feature without a probe counts as unsupported, so the
 * cross-check is skipped rather than trusted for it.
 */
import type { Feature } from './schema.js';

const PROBES: Partial<Record<Feature, string>> = {
  threads: '0061736d010000000105016000017f030201000504010301010a0a0108004100fe1002000b',
  simd: '0061736d010000000105016000017b030201000a16011400fd0c000000000000000000000000000000000b',
  'relaxed-simd': '0061736d010000000105016000017b030201000a2b012900fd0c00000000000000000000000000000000fd0c00000000000000000000000000000000fd80020b',
  memory64: '0061736d010000000503010401',
  'multi-memory': '0061736d0100000005050200010001',
  'bulk-memory': '0061736d010000000104016000000302010005030100010a0d010b00410041004100fc0b000b',
  'reference-types': '0061736d010000000105016000016f030201000404016f00010a08010600410025000b',
  'tail-call': '0061736d01000000010401600000030201000a0601040012000b',
};
/** Part of every engine that runs Flight Deck (Node >= 20). */
const ALWAYS: ReadonlySet<Feature> = new Set(['sign-extension', 'saturating-float-to-int']);

// The global WebAssembly object of the engine (the project's lib setting, ES2023, does not declare it).
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
};

const cache = new Map<Feature, boolean>();

export function engineAccepts(feature: Feature): boolean {
  if (ALWAYS.has(feature)) return true;
  const known = cache.get(feature);
  if (known !== undefined) return known;
  const hex = PROBES[feature];
  const ok = hex !== undefined && WebAssembly.validate(Buffer.from(hex, 'hex'));
  cache.set(feature, ok);
  return ok;
}

/** undefined when the engine accepts the bytes, else its compile error (which names a byte offset, `@+N`). */
export function engineRejects(bytes: Uint8Array): string | undefined {
  if (WebAssembly.validate(bytes)) return undefined;
  try {
    new WebAssembly.Module(bytes);
    return 'validation failed';
  } catch (err) {
    return (err as Error).message;
  }
}

export function engineName(): string {
  return `V8 ${process.versions.v8}`;
}
