import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Load an optional native module on first use. Returns the failure instead of throwing so callers can
 * degrade one feature with a clear error (the module may not have built on this machine).
 */
export function loadOptional<T>(name: string): { ok: true; module: T } | { ok: false; error: Error } {
  try {
    return { ok: true, module: require(name) as T };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
