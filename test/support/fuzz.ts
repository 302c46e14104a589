/** Deterministic mutation fuzzing shared by the unit test (a few thousand cases) and the bench (100,000). */

// The seeded PRNG is the one the emulator places line faults with.
export { rng } from '../../emulator/faults.js';

/** One to four edits: flip bits, overwrite bytes, write LEB128-looking runs, truncate, insert, duplicate. */
export function mutate(input: Uint8Array, random: () => number): Uint8Array {
  let b: Uint8Array = new Uint8Array(input);
  const at = () => Math.floor(random() * b.length);
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const kind = Math.floor(random() * 6);
    if (kind === 0) b[at()]! ^= 1 << Math.floor(random() * 8);
    else if (kind === 1) b[at()] = Math.floor(random() * 256);
    else if (kind === 2) {
      const p = at();
      for (let i = 0; i < 1 + random() * 6 && p + i < b.length; i++) b[p + i] = 0x80 | Math.floor(random() * 128);
    } else if (kind === 3) b = b.subarray(0, at());
    else if (kind === 4) {
      const p = at();
      const extra = Uint8Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256));
      b = concat(b.subarray(0, p), extra, b.subarray(p));
    } else {
      const p = at();
      const q = Math.min(b.length, p + Math.floor(random() * 32));
      b = concat(b.subarray(0, q), b.subarray(p, q), b.subarray(q));
    }
  }
  return b;
}

/** One new array holding `parts` in order (what `Uint8Array.from([...a, ...b])` gives, without the spread). */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
