/** Deterministic mutation fuzzing shared by the unit test (a few thousand cases) and the bench (100,000). */

// The seeded PRNG is the one the emulator places line faults with.
export { rng } from '../../emulator/faults.js';

/** One to four edits: flip bits, overwrite bytes, write LEB128-looking runs, truncate, insert, duplicate. */
export function mutate(input: Uint8Array, random: () => number): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
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
      b = splice(b, p, extra);
    } else {
      const p = at();
      const q = Math.min(b.length, p + Math.floor(random() * 32));
      b = splice(b, q, b.subarray(p, q));
    }
  }
  return b;
}

/**
 * `bytes` with `extra` inserted at `at`, copied with typed-array sets: spreading a large input into a
 * plain array (the old way) took ~250 ms per case on a 700 KB binary under load, so a fuzz test's time
 * depended on the machine's load rather than on the parser.
 */
function splice(bytes: Uint8Array, at: number, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes.subarray(0, at));
  out.set(extra, at);
  out.set(bytes.subarray(at), at + extra.length);
  return out;
}
