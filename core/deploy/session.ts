/**
 * The host side of the Flight Deploy Protocol: handshake, line-rate switch, windowed upload with
 * cumulative acks and per-block retry, verify, commit, rollback, status, run and monitor.
 */
import type { z } from 'zod';
import { FlightDeckError, type ErrorCode } from '../errors.js';
import { FrameLink } from './link.js';
import { encodeFrame, type Frame } from './framing.js';
import {
  BeginSchema,
  BlocksSchema,
  CommitSchema,
  CommittedSchema,
  encodeData,
  ErrorSchema,
  ExitSchema,
  InfoSchema,
  json,
  LogSchema,
  Msg,
  MSG_NAMES,
  parseBody,
  parseMessage,
  PROTOCOL_CONSTANTS as C,
  PROTOCOL_VERSION,
  RATE_FALLBACK_MS,
  ReadySchema,
  RollbackSchema,
  StateSchema,
  VerifiedSchema,
  type Blocks,
  type Compression,
  type DeviceInfo,
  type DeviceState,
  type LogLine,
  type Ready,
} from './protocol.js';
import type { ByteTransport } from './transport.js';

export interface SessionTimings {
  /** Wait for a control reply (HELLO, BEGIN, END, COMMIT, ...). */
  replyMs: number;
  /** Wait for an ack beyond the time the in-flight bytes need on the line. */
  ackMs: number;
  /** Consecutive retries without progress before giving up. */
  maxRetries: number;
}

export const DEFAULT_TIMINGS: SessionTimings = { replyMs: C.replyMs, ackMs: C.ackMs, maxRetries: C.maxRetries };

/** The host probes a new line rate with HELLOs for 3 x this; the device keeps the new rate longer (RATE_FALLBACK_MS), so the host gives up first and both end at the old rate. */
export const RATE_PROBE_MS = C.rateProbeMs;

export interface UploadProgress {
  /** Payload bytes the device acknowledged. */
  done: number;
  total: number;
  /** Payload bytes the device already held when the upload started. */
  resumedFrom: number;
  retries: number;
  /** Bytes put on the wire so far (frames, after compression and escaping). */
  wireBytes: number;
}

/** Fast reflash: the device starts from its active payload `base` and gets only these blocks. */
export interface DeltaPlan {
  base: string;
  blockSize: number;
  blocks: number[];
}

export interface UploadResult extends UploadProgress {
  slot: 'A' | 'B';
  state: Ready['state'];
  /** The device's id of this upload (READY.upload): END and COMMIT are checked against it. */
  upload: string | undefined;
}

const DEVICE_CODES: Record<z.infer<typeof ErrorSchema>['code'], ErrorCode> = {
  REFUSED: 'DEVICE_REFUSED',
  VERIFY_FAILED: 'DEVICE_VERIFY_FAILED',
  PROTOCOL: 'DEVICE_PROTOCOL_ERROR',
  BUSY: 'DEVICE_BUSY',
};

export class HostSession {
  readonly link: FrameLink;
  readonly info: DeviceInfo;
  private readonly t: SessionTimings;
  private readonly signal: AbortSignal | undefined;

  private constructor(link: FrameLink, info: DeviceInfo, timings: SessionTimings, signal: AbortSignal | undefined) {
    this.link = link;
    this.info = info;
    this.t = timings;
    this.signal = signal;
    // A write may take its line time (8N1) plus the reply timeout; longer means the line is stuck.
    link.writeTimeoutMs = (bytes) => timings.replyMs + (info.lineRate ? Math.ceil((bytes * 10 * 1000) / info.lineRate) : 0);
  }

  /** Handshake on an open transport. Closes the transport when the device does not answer as a Flight device. */
  static async open(transport: ByteTransport, opts: { timings?: Partial<SessionTimings>; signal?: AbortSignal } = {}): Promise<HostSession> {
    const timings = { ...DEFAULT_TIMINGS, ...opts.timings };
    const link = new FrameLink(transport, C.hostMaxFrame);
    try {
      const info = await hello(link, timings, opts.signal);
      if (info.version !== PROTOCOL_VERSION) {
        throw new FlightDeckError(
          'DEVICE_PROTOCOL_ERROR',
          `${transport.description} speaks Flight Deploy Protocol v${info.version}; this Flight Deck speaks v${PROTOCOL_VERSION}.`,
          { hint: 'Update the device firmware or Flight Deck so both speak the same protocol version.' },
        );
      }
      return new HostSession(link, info, timings, opts.signal);
    } catch (err) {
      await link.close().catch(() => {});
      throw err;
    }
  }

  get description(): string {
    return this.link.transport.description;
  }

  /** Send a control request and wait for its `reply` type, retrying on timeout (requests are idempotent). */
  async request(type: number, body: unknown, reply: number, timeoutMs = this.t.replyMs): Promise<Frame> {
    for (let attempt = 0; ; attempt++) {
      await this.link.send(type, json(body));
      const frame = await this.await(reply, timeoutMs);
      if (frame) return frame;
      if (attempt >= C.requestTries - 1) {
        throw new FlightDeckError('DEVICE_TIMEOUT', `${this.description} did not answer ${MSG_NAMES[type]} within ${timeoutMs} ms (${C.requestTries} tries).`);
      }
    }
  }

  /** Wait for a frame of type `want`, skipping stragglers (late acks); device errors become FlightDeckErrors. */
  private async await(want: number, timeoutMs: number): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.link.nextOrTimeout(deadline - Date.now(), this.signal);
      if (!frame) return undefined;
      if (frame.type === want) return frame;
      if (frame.type === Msg.ERROR) throw deviceError(this.description, frame);
    }
  }

  private parse<T>(schema: z.ZodType<T>, frame: Frame): T {
    return parseOrThrow(schema, frame, this.description);
  }

  /**
   * Switch the serial line rate. The device answers RATE_OK at the old rate and switches; the host switches
   * and says HELLO at the new rate. When that fails, or RATE_OK never came (changing the rate flushes the
   * port's buffers), the host goes (back) to the old rate and says HELLO until the device has fallen back
   * too, RATE_FALLBACK_MS after its last good frame. Returns the rate in use.
   */
  async switchLineRate(baud: number): Promise<number> {
    const transport = this.link.transport;
    const old = this.info.lineRate;
    if (!transport.setLineRate || old === 0 || baud === old || !this.info.lineRates.includes(baud)) return old;
    await this.link.send(Msg.SET_RATE, json({ baud }));
    if (await this.await(Msg.RATE_OK, RATE_PROBE_MS)) {
      await transport.setLineRate(baud);
      const info = await helloUntil(this.link, Date.now() + C.rateProbeTries * RATE_PROBE_MS, this.signal);
      if (info) {
        Object.assign(this.info, info);
        return baud;
      }
      await transport.setLineRate(old);
    }
    const info = await helloUntil(this.link, Date.now() + RATE_FALLBACK_MS + this.t.replyMs, this.signal);
    if (!info) throw new FlightDeckError('DEVICE_TIMEOUT', `${this.description} answers neither at ${baud} nor at ${old} baud after a line-rate switch.`);
    Object.assign(this.info, info);
    return old;
  }

  async status(): Promise<DeviceState> {
    return this.parse(StateSchema, await this.request(Msg.STATUS, {}, Msg.STATE));
  }

  /**
   * Make the previous payload (the inactive slot's) active. ROLLBACK names that payload, so the resend
   * after a lost STATE finds it already active and changes nothing; the host then checks that the state
   * the device reports has exactly that payload active before it says so.
   */
  async rollback(): Promise<DeviceState> {
    const before = await this.status();
    const from = before.active;
    const to = from ? before.slots[from === 'A' ? 'B' : 'A'] : null;
    if (!from || !to) {
      throw new FlightDeckError('DEVICE_REFUSED', `${this.description}: no previous payload to roll back to; nothing changed.`, {
        details: { device: 'REFUSED' },
      });
    }
    const state = this.parse(StateSchema, await this.request(Msg.ROLLBACK, RollbackSchema.parse({ sha256: to.sha256 }), Msg.STATE));
    const now = state.active ? state.slots[state.active] : null;
    if (now?.sha256 !== to.sha256) {
      throw new FlightDeckError(
        'DEVICE_PROTOCOL_ERROR',
        `${this.description} answered ROLLBACK to sha256:${to.sha256} with slot ${state.active ?? '(none)'} active holding sha256:${now?.sha256 ?? '(nothing)'}.`,
      );
    }
    return state;
  }

  /** The SHA-256 of each `blockSize` block of the active payload (feature block-hashes). */
  async blockHashes(blockSize: number): Promise<Blocks> {
    const blocks = this.parse(BlocksSchema, await this.request(Msg.HASHES, { blockSize }, Msg.BLOCKS));
    if (blocks.sha256 && (blocks.blockSize !== blockSize || blocks.hashes.length !== Math.ceil(blocks.size / blockSize))) {
      throw new FlightDeckError(
        'DEVICE_PROTOCOL_ERROR',
        `${this.description} sent ${blocks.hashes.length} block hashes of ${blocks.blockSize} bytes for ${blocks.size} bytes.`,
      );
    }
    return blocks;
  }

  /**
   * BEGIN, then send the payload from where the device stands, in a sliding window of blocks. With a
   * delta plan the stream is only the planned blocks, one after another (sent in blocks of its size).
   */
  async upload(
    payload: Buffer,
    sha256: string,
    opts: { compression: Compression; fresh: boolean; blockSize?: number; window?: number; delta?: DeltaPlan; onProgress?: (p: UploadProgress) => void },
  ): Promise<UploadResult> {
    const maxFrame = this.info.maxFrame;
    const maxBlock = maxFrame - C.blockHeadroom;
    const serial = this.info.lineRate > 0;
    const blockSize = opts.delta?.blockSize ?? Math.max(C.minBlockSize, Math.min(opts.blockSize ?? (serial ? C.serialBlockSize : C.streamBlockSize), maxBlock));
    const window = opts.window ?? (serial ? C.serialWindow : C.streamWindow);
    const delta = opts.delta ? { base: opts.delta.base, blocks: opts.delta.blocks } : undefined;
    const begin = BeginSchema.parse({ sha256, size: payload.length, blockSize, compression: opts.compression, fresh: opts.fresh, ...(delta ? { delta } : {}) });
    const stream = delta ? Buffer.concat(delta.blocks.map((b) => payload.subarray(b * blockSize, (b + 1) * blockSize))) : payload;
    const ready = this.parse(ReadySchema, await this.request(Msg.BEGIN, begin, Msg.READY));
    if (ready.state === 'upload' && ready.offset > stream.length) {
      throw new FlightDeckError(
        'DEVICE_PROTOCOL_ERROR',
        `${this.description} answered READY.offset: ${ready.offset}, past the ${stream.length} bytes of this upload.`,
      );
    }
    if (ready.state === 'upload' && ready.upload === undefined) {
      throw new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${this.description} answered READY.upload: required for state "upload", got nothing.`);
    }
    const p: UploadProgress = { done: ready.offset, total: stream.length, resumedFrom: ready.offset, retries: 0, wireBytes: 0 };
    if (ready.state !== 'upload' || ready.offset >= stream.length) {
      opts.onProgress?.(p);
      return { ...p, done: stream.length, slot: ready.slot, state: ready.state, upload: ready.upload };
    }
    // Line time of the bytes in flight, so a slow line is not mistaken for a lost block.
    const bytesPerMs = this.info.lineRate ? this.info.lineRate / 10 / 1000 : Infinity;
    const inflight: Array<{ end: number; wire: number; sentAt: number }> = [];
    let acked = ready.offset;
    let next = ready.offset;
    let stalls = 0;
    const wireStart = this.link.bytesOut;
    const goBack = () => {
      next = acked;
      inflight.length = 0;
      p.retries++;
      if (++stalls > this.t.maxRetries) {
        throw new FlightDeckError(
          'DEVICE_TIMEOUT',
          `${this.description} stopped acknowledging at byte ${acked} of ${stream.length} after ${this.t.maxRetries} retries.`,
        );
      }
    };
    const advance = (cum: number) => {
      if (cum <= acked || cum > stream.length) return;
      acked = cum;
      stalls = 0;
      while (inflight[0] && inflight[0].end <= acked) inflight.shift();
      if (next < acked) next = acked;
      p.done = acked;
      p.wireBytes = this.link.bytesOut - wireStart;
      opts.onProgress?.(p);
    };
    while (acked < stream.length) {
      while (next < stream.length && inflight.length < window) {
        // maxFrame counts wire bytes: a block whose frame escapes past it (0xC0 and 0xDB take two bytes
        // each, so an incompressible block of them doubles) goes as smaller DATA frames.
        let end = Math.min(next + blockSize, stream.length);
        let frame = encodeFrame(Msg.DATA, encodeData(next, stream.subarray(next, end), opts.compression));
        while (frame.length > maxFrame && end - next > 1) {
          end = next + Math.ceil((end - next) / 2);
          frame = encodeFrame(Msg.DATA, encodeData(next, stream.subarray(next, end), opts.compression));
        }
        await this.link.sendFrame(frame);
        inflight.push({ end, wire: frame.length, sentAt: Date.now() });
        next = end;
      }
      const oldest = inflight[0];
      const lineMs = inflight.reduce((sum, b) => sum + b.wire, 0) / bytesPerMs;
      const wait = oldest ? oldest.sentAt + this.t.ackMs + lineMs - Date.now() : this.t.ackMs;
      const frame = await this.link.nextOrTimeout(Math.max(1, wait), this.signal);
      if (!frame) {
        if (oldest && Date.now() >= oldest.sentAt + this.t.ackMs + lineMs) goBack();
        continue;
      }
      if (frame.type === Msg.ACK && frame.body.length === 4) {
        advance(frame.body.readUInt32LE(0));
      } else if (frame.type === Msg.NAK && frame.body.length === 4) {
        // The device saw a gap or a damaged frame at `expected` (it sends one NAK per gap): everything
        // before it arrived (acks may have been lost), everything after goes again.
        const expected = frame.body.readUInt32LE(0);
        if (expected >= acked && expected <= stream.length) {
          advance(expected);
          goBack();
        }
      } else if (frame.type === Msg.ERROR) {
        throw deviceError(this.description, frame);
      }
    }
    p.wireBytes = this.link.bytesOut - wireStart;
    return { ...p, slot: ready.slot, state: 'upload', upload: ready.upload };
  }

  /** Ask the device to check the SHA-256 of the whole payload (and its platform limits). */
  async verify(sha256: string, size: number, upload?: string): Promise<void> {
    // Hashing takes time on a slow device: allow verifyBytesPerSecond on top of the reply timeout.
    const frame = await this.request(Msg.END, {}, Msg.VERIFIED, this.t.replyMs + Math.ceil((size * 1000) / C.verifyBytesPerSecond));
    const verified = this.parse(VerifiedSchema, frame);
    if (verified.sha256 !== sha256) {
      throw new FlightDeckError('DEVICE_VERIFY_FAILED', `${this.description} verified sha256:${verified.sha256}, not the payload sha256:${sha256}.`);
    }
    if (upload !== undefined && verified.upload !== upload) {
      throw new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${this.description} verified upload ${verified.upload}, not this deploy's upload ${upload}.`);
    }
  }

  /**
   * Make the verified upload active. COMMIT names the upload (READY.upload); the device confirms in
   * COMMITTED which upload it committed, and anything but this one is an error: no receipt says
   * "committed" for a payload the device did not commit for this host.
   */
  async commit(sha256: string, upload: string | undefined): Promise<DeviceState> {
    if (upload === undefined) throw new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${this.description} named no upload in READY; cannot commit.`);
    const committed = this.parse(CommittedSchema, await this.request(Msg.COMMIT, CommitSchema.parse({ sha256, upload }), Msg.COMMITTED));
    if (committed.committed.upload !== upload || committed.committed.sha256 !== sha256) {
      throw new FlightDeckError(
        'DEVICE_PROTOCOL_ERROR',
        `${this.description} confirmed committing upload ${committed.committed.upload} (sha256:${committed.committed.sha256}), not this deploy's upload ${upload} (sha256:${sha256}).`,
      );
    }
    const { committed: _, ...state } = committed;
    return state;
  }

  /** Start the committed payload and stream its output until it exits; resolves to its exit code. */
  async run(onLog: (line: LogLine) => void): Promise<number> {
    await this.link.send(Msg.RUN, json({}));
    for (;;) {
      const frame = await this.link.next(24 * 3600_000, this.signal);
      if (frame.type === Msg.LOG) onLog(this.parse(LogSchema, frame));
      else if (frame.type === Msg.EXIT) return this.parse(ExitSchema, frame).code;
      else if (frame.type === Msg.ERROR) throw deviceError(this.description, frame);
    }
  }

  /** Device log: the recent history, then (follow) new lines until the signal aborts or the device goes away. */
  async monitor(follow: boolean, onLog: (line: LogLine) => void): Promise<void> {
    await this.link.send(Msg.MONITOR, json({ follow }));
    for (;;) {
      const frame = follow ? await this.link.next(24 * 3600_000, this.signal) : await this.link.next(this.t.replyMs, this.signal);
      if (frame.type === Msg.LOG) onLog(this.parse(LogSchema, frame));
      else if (frame.type === Msg.MONITOR_END) return;
      else if (frame.type === Msg.ERROR) throw deviceError(this.description, frame);
    }
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}

async function hello(link: FrameLink, t: SessionTimings, signal: AbortSignal | undefined): Promise<DeviceInfo> {
  for (let attempt = 0; attempt < C.requestTries; attempt++) {
    await link.send(Msg.HELLO, json({ version: PROTOCOL_VERSION }));
    const deadline = Date.now() + t.replyMs;
    for (;;) {
      const frame = await link.nextOrTimeout(deadline - Date.now(), signal);
      if (!frame) break;
      if (frame.type === Msg.ERROR) throw deviceError(link.transport.description, frame);
      if (frame.type !== Msg.INFO) continue;
      return parseOrThrow(InfoSchema, frame, link.transport.description);
    }
  }
  throw new FlightDeckError('DEVICE_TIMEOUT', `${link.transport.description} did not answer HELLO (${C.requestTries} tries, ${t.replyMs} ms each).`, {
    hint: 'Check that a Flight device or `flightdeck emulate` is on the other end, at the same line rate.',
  });
}

/** Say HELLO every RATE_PROBE_MS until the device answers (INFO) or the deadline passes. */
async function helloUntil(link: FrameLink, deadline: number, signal: AbortSignal | undefined): Promise<DeviceInfo | undefined> {
  while (Date.now() < deadline) {
    await link.send(Msg.HELLO, json({ version: PROTOCOL_VERSION }));
    const until = Math.min(deadline, Date.now() + RATE_PROBE_MS);
    for (let frame; (frame = await link.nextOrTimeout(until - Date.now(), signal));) {
      if (frame.type !== Msg.INFO) continue;
      const info = parseBody(InfoSchema, frame.body);
      if (info) return info;
    }
  }
  return undefined;
}

/** A device message parsed against its schema; DEVICE_PROTOCOL_ERROR naming the field and the problem otherwise. */
function parseOrThrow<T>(schema: z.ZodType<T>, frame: Frame, description: string): T {
  const name = MSG_NAMES[frame.type] ?? `message 0x${frame.type.toString(16)}`;
  const r = parseMessage(schema, frame.body, name);
  if (r.ok) return r.value;
  throw new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${description} sent a malformed ${name} message: ${r.problem}.`, {
    hint: 'The device firmware does not follow docs/protocol.md here; `flightdeck device conformance` checks a device against it.',
    details: { message: name, problem: r.problem },
  });
}

function deviceError(description: string, frame: Frame): FlightDeckError {
  const parsed = parseMessage(ErrorSchema, frame.body, 'ERROR');
  if (!parsed.ok) return new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${description} sent a malformed ERROR message: ${parsed.problem}.`);
  const body = parsed.value;
  return new FlightDeckError(DEVICE_CODES[body.code], `${description}: ${body.message}`, { details: { device: body.code } });
}
