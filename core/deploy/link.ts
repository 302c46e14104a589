/**
 * A frame link over a ByteTransport: encodes outgoing frames, decodes incoming ones into a queue, and lets
 * the caller wait for the next frame with a timeout and an AbortSignal. Used by both ends of the protocol.
 */
import { FlightDeckError } from '../errors.js';
import { encodeFrame, FrameDecoder, type Frame } from './framing.js';
import type { ByteTransport } from './transport.js';

export class FrameLink {
  readonly transport: ByteTransport;
  private readonly decoder: FrameDecoder;
  private readonly queue: Frame[] = [];
  private waiter: (() => void) | undefined;
  private closedWith: Error | undefined | null = null;
  private readonly unsubscribe: () => void;
  /** Bytes put on the wire (frames after escaping), for rate reporting. */
  bytesOut = 0;

  constructor(transport: ByteTransport, maxFrame: number) {
    this.transport = transport;
    this.decoder = new FrameDecoder(maxFrame);
    this.unsubscribe = transport.onData((chunk) => {
      const dropped = this.decoder.dropped;
      const frames = this.decoder.push(chunk);
      if (this.decoder.dropped !== dropped) this.onDropped?.();
      if (frames.length === 0) return;
      this.queue.push(...frames);
      this.wake();
    });
    transport.onClose((err) => {
      this.closedWith = err;
      this.wake();
    });
  }

  /** Called when the decoder drops a frame (bad CRC, bad escape, too long), as it happens. */
  onDropped: (() => void) | undefined;

  /** Frames that failed CRC or framing so far. */
  get dropped(): number {
    return this.decoder.dropped;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /**
   * How long a write of `bytes` may take before the line counts as stuck (a serial port whose peer stopped
   * reading blocks its writer forever). The host session sets it from its timings and the line rate.
   */
  writeTimeoutMs: (bytes: number) => number = () => 30_000;

  async send(type: number, body?: Uint8Array): Promise<void> {
    await this.sendFrame(encodeFrame(type, body));
  }

  /** Send a frame already encoded (encodeFrame), e.g. one the sender measured against the peer's maxFrame. */
  async sendFrame(frame: Buffer): Promise<void> {
    if (this.closedWith !== null) throw this.disconnected();
    this.bytesOut += frame.length;
    const ms = this.writeTimeoutMs(frame.length);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.transport.write(frame),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new FlightDeckError('DEVICE_TIMEOUT', `${this.transport.description} stopped taking data (a write did not finish within ${ms} ms).`)),
            ms,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next frame; DEVICE_TIMEOUT after `timeoutMs`, DEVICE_DISCONNECTED when the stream ends. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<Frame> {
    const frame = await this.nextOrTimeout(timeoutMs, signal);
    if (!frame) {
      throw new FlightDeckError('DEVICE_TIMEOUT', `${this.transport.description} did not answer within ${timeoutMs} ms.`);
    }
    return frame;
  }

  /** The next frame, or undefined after `timeoutMs`. */
  async nextOrTimeout(timeoutMs: number, signal?: AbortSignal): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.queue.shift();
      if (frame) return frame;
      if (signal?.aborted) throw new FlightDeckError('ABORTED', 'The operation was cancelled.');
      if (this.closedWith !== null) throw this.disconnected();
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.waiter = undefined;
          resolve();
        };
        const timer = setTimeout(done, left);
        signal?.addEventListener('abort', done, { once: true });
        this.waiter = done;
      });
    }
  }

  private disconnected(): FlightDeckError {
    const why = this.closedWith ? `: ${this.closedWith.message}` : '';
    return new FlightDeckError('DEVICE_DISCONNECTED', `${this.transport.description} disconnected${why}.`, {
      ...(this.closedWith ? { cause: this.closedWith } : {}),
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.transport.close();
  }
}
