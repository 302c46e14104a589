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

export class LineFaults {
  private readonly f: Faults;
  private readonly random: () => number;
  private received = 0;
  private disconnected = false;

  constructor(faults: Faults) {
    this.f = faults;
    this.random = rng(faults.seed ?? 1);
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
        await inner.write(this.damage(data));
      },
      onData: (listener) => {
        let cut = false;
        return inner.onData((chunk) => {
          if (cut) return;
          const limit = this.f.disconnectAfter;
          if (limit !== undefined && !this.disconnected && this.received + chunk.length >= limit) {
            // Deliver what arrived before the cut, then pull the cable (once per emulator run).
            this.disconnected = cut = true;
            listener(this.damage(chunk.subarray(0, limit - this.received)));
            this.received = limit;
            disconnect();
            return;
          }
          this.received += chunk.length;
          listener(this.damage(chunk));
        });
      },
    };
  }

  /** Drop and flip bytes at the configured rates (geometric gaps between faults). */
  private damage(chunk: Uint8Array): Uint8Array {
    const { drop = 0, corrupt = 0 } = this.f;
    if (!drop && !corrupt) return chunk;
    const out = Buffer.from(chunk);
    const keep = new Uint8Array(out.length).fill(1);
    let dropped = false;
    for (const [p, act] of [
      [corrupt, (i: number) => (out[i] = out[i]! ^ (1 + Math.floor(this.random() * 255)))],
      [drop, (i: number) => ((keep[i] = 0), (dropped = true))],
    ] as const) {
      if (!p) continue;
      for (let i = this.gap(p); i < out.length; i += 1 + this.gap(p)) act(i);
    }
    return dropped ? out.filter((_, i) => keep[i] === 1) : out;
  }

  private gap(p: number): number {
    return Math.floor(Math.log(1 - this.random()) / Math.log(1 - p));
  }
}
