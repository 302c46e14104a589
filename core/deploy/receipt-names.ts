/**
 * How a receipt is named for people: its module and its canonical source. Apart from receipts.ts (which
 * re-exports them), whose schemas the CLI does not need to build to print a deploy's result.
 */
import path from 'node:path';
import type { Receipt } from './schema.js';

/**
 * The module a receipt's payload was: `REF!wasm/x.wasm` or `bundle.tar.gz!wasm/x.wasm` → `x`; a wasm
 * artifact pulled by reference → its repository's last name (`…/wasm/memory-validation:tag` →
 * `memory-validation`); a local `x.wasm` → `x`.
 */
export function receiptModule(r: Receipt): string {
  const name = r.payload.name;
  const bang = name.lastIndexOf('!');
  if (bang >= 0) return path.posix.basename(name.slice(bang + 1)).replace(/\.wasm$/, '');
  if (r.source) {
    const bare = r.source.reference.replace(/@[^@]*$/, '');
    const last = bare.slice(bare.lastIndexOf('/') + 1);
    return last.replace(/:[^:]*$/, '') || name;
  }
  return path.basename(name).replace(/\.wasm$/, '');
}

/** The canonical source of a receipt: `reference@manifestDigest` (the reference as pulled, tag kept); the kit entry's for a kit; null for a local file. */
export function receiptReference(r: Receipt): string | null {
  if (r.source) return r.source.reference.includes('@') ? r.source.reference : `${r.source.reference}@${r.source.manifestDigest}`;
  if (r.kit) return r.kit.entry.includes('@') ? r.kit.entry : `${r.kit.entry}@${r.kit.digest}`;
  return null;
}
