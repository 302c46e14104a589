/**
 * Fault injection for tests: a ByteTransport wrapper that damages the line (drop and corrupt bytes in
 * both directions, delay writes, disconnect after N received bytes) and the named phases at which the
 * device can be made to crash.
 */
import type { ByteTransport } from '../core/deploy/transport.js';

export const CRASH_PHASES = ['handshake', 'begin', 'mid-block', 'end', 'verify', 'commit'] as const;
export type CrashPhase = (typeof CRASH_PHASES)[number];

export interface Faults {
  /** Probability per byte that it is lost (each direction). */
  drop?: number;
  /** Probability per byte that it is flipped (each direction). */
  corrupt?: number;
  /** Milliseconds added before each write of the device. */
  delayMs?: number;
  /** Close the connection once this many bytes were received (once per emulator run). */
  disconnectAfter?: number;
  /** Crash the device (the process is killed) on reaching this phase. */
  crashAt?: CrashPhase;
  /** Seed of the fault generator, so a failing run can be replayed. */
  seed?: number;
}

/** mulberry32: small, seedable, good enough to place faults. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Drops and flips bytes of one direction at the configured rates. The gaps between faults are geometric
 * and carried across chunks, so a seed fixes the byte offsets where faults land, however the stream is cut.
 */
class LineNoise {
  private readonly drop: Geometric;
  private readonly corrupt: Geometric;
  private readonly flip: () => number;

  constructor(faults: Faults, seed: number) {
    // One generator per kind of fault, so their sequences do not depend on how the stream is chunked.
    this.drop = new Geometric(faults.drop ?? 0, rng(seed));
    this.corrupt = new Geometric(faults.corrupt ?? 0, rng(seed ^ 0x5bd1e995));
    this.flip = rng(seed ^ 0x27d4eb2d);
  }

  apply(chunk: Uint8Array): Uint8Array {
    if (!this.drop.p && !this.corrupt.p) return chunk;
    const out = Buffer.from(chunk);
    for (const i of this.corrupt.hits(out.length)) out[i] = out[i]! ^ (1 + Math.floor(this.flip() * 255));
    const lost = new Set(this.drop.hits(out.length));
    return lost.size === 0 ? out : out.filter((_, k) => !lost.has(k));
  }
}

/** Positions of events with probability p per byte, as offsets into successive chunks. */
class Geometric {
  readonly p: number;
  private readonly random: () => number;
  private until: number;

  constructor(p: number, random: () => number) {
    this.p = p;
    this.random = random;
    this.until = this.gap();
  }

  private gap(): number {
    return this.p ? Math.floor(Math.log(1 - this.random()) / Math.log(1 - this.p)) : Infinity;
  }

  hits(length: number): number[] {
    const at: number[] = [];
    let i = this.until;
    for (; i < length; i += 1 + this.gap()) at.push(i);
    this.until = i - length;
    return at;
  }
}

export class LineFaults {
  private readonly f: Faults;
  private readonly rx: LineNoise;
  private readonly tx: LineNoise;
  private received = 0;
  private disconnected = false;

  constructor(faults: Faults) {
    this.f = faults;
    this.rx = new LineNoise(faults, faults.seed ?? 1);
    this.tx = new LineNoise(faults, (faults.seed ?? 1) + 0x9e3779b9);
  }

  get active(): boolean {
    return Boolean(this.f.drop || this.f.corrupt || this.f.delayMs || this.f.disconnectAfter !== undefined);
  }

  /** Wrap one connection. `disconnect` cuts it (the emulator decides what a cut means for its transport). */
  wrap(inner: ByteTransport, disconnect: () => void): ByteTransport {
    if (!this.active) return inner;
    return {
      ...inner,
      description: inner.description,
      write: async (data) => {
        if (this.f.delayMs) await new Promise((r) => setTimeout(r, this.f.delayMs));
        await inner.write(this.tx.apply(data));
      },
      onData: (listener) => {
        let cut = false;
        return inner.onData((chunk) => {
          if (cut) return;
          const limit = this.f.disconnectAfter;
          if (limit !== undefined && !this.disconnected && this.received + chunk.length >= limit) {
            // Deliver what arrived before the cut, then pull the cable (once per emulator run).
            this.disconnected = cut = true;
            listener(this.rx.apply(chunk.subarray(0, limit - this.received)));
            this.received = limit;
            disconnect();
            return;
          }
          this.received += chunk.length;
          listener(this.rx.apply(chunk));
        });
      },
    };
  }
}
