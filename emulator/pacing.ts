/**
 * Line-rate pacing: a pty (or a socket) moves bytes as fast as the kernel can, a UART does not. This
 * wrapper delivers received bytes and completes writes no faster than `baud / 10` bytes per second
 * (8N1: a start bit, 8 data bits, a stop bit), which is what a kit's serial line gives.
 */
import type { ByteTransport } from '../core/deploy/transport.js';

const TICK_MS = 2;

/** A token bucket draining a queue of chunks at the line rate. */
class Line {
  bytesPerMs: number;
  private readonly queue: Array<{ data: Uint8Array; done?: () => void }> = [];
  private credit = 0;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly deliver: (chunk: Uint8Array) => void;

  constructor(baud: number, deliver: (chunk: Uint8Array) => void) {
    this.bytesPerMs = baud / 10 / 1000;
    this.deliver = deliver;
  }

  push(data: Uint8Array, done?: () => void): void {
    this.queue.push({ data, ...(done ? { done } : {}) });
    if (!this.timer) {
      this.last = performance.now();
      this.credit = 0;
      this.timer = setTimeout(() => this.drain(), TICK_MS);
    }
  }

  private drain(): void {
    const now = performance.now();
    this.credit += (now - this.last) * this.bytesPerMs;
    this.last = now;
    while (this.queue.length > 0 && this.credit >= 1) {
      const head = this.queue[0]!;
      const n = Math.min(head.data.length, Math.floor(this.credit));
      this.credit -= n;
      this.deliver(head.data.subarray(0, n));
      if (n === head.data.length) {
        this.queue.shift();
        head.done?.();
      } else {
        head.data = head.data.subarray(n);
      }
    }
    this.timer = this.queue.length > 0 ? setTimeout(() => this.drain(), TICK_MS) : undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export interface PacedTransport extends ByteTransport {
  setPace(baud: number): void;
}

export function paced(inner: ByteTransport, baud: number): PacedTransport {
  const listeners = new Set<(chunk: Uint8Array) => void>();
  const rx = new Line(baud, (chunk) => {
    for (const l of listeners) l(chunk);
  });
  const tx = new Line(baud, (chunk) => void inner.write(chunk).catch(() => {}));
  inner.onData((chunk) => rx.push(chunk));
  inner.onClose(() => {
    rx.stop();
    tx.stop();
  });
  return {
    ...inner,
    description: inner.description,
    write: (data) => new Promise<void>((resolve) => tx.push(Buffer.from(data), resolve)),
    onData(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => inner.close(),
    setPace(next: number) {
      rx.bytesPerMs = tx.bytesPerMs = next / 10 / 1000;
    },
  };
}
