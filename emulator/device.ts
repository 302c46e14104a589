/**
 * The device side of the Flight Deploy Protocol: one Device (slots, limits, log) serving any number of
 * connections (one upload at a time). See docs/protocol.md for the message flow.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { z } from 'zod';
import { checkLimits } from '../core/deploy/check.js';
import type { Frame } from '../core/deploy/framing.js';
import type { FrameLink } from '../core/deploy/link.js';
import type { PlatformLimits } from '../core/deploy/platform-limits.js';
import {
  BeginSchema,
  COMPRESSIONS,
  type Begin,
  CommitSchema,
  decodeData,
  RollbackSchema,
  FEATURES,
  HashesSchema,
  json,
  Msg,
  MSG_NAMES,
  MonitorSchema,
  parseBody,
  parseMessage,
  PROTOCOL_CONSTANTS as C,
  PROTOCOL_VERSION,
  RATE_FALLBACK_MS,
  SetRateSchema,
  u32,
  unpackBlock,
  type Blocks,
  type DeviceErrorBody,
  type DeviceInfo,
  type DeviceState,
  type LogLine,
} from '../core/deploy/protocol.js';
import { FlightDeckError } from '../core/errors.js';
import type { CrashPhase } from './faults.js';
import { runPayload, type PayloadRun } from './runner.js';
import type { SlotStore } from './slots.js';

/** The largest frame the reference device takes, in wire bytes (INFO.maxFrame; docs/protocol.md, "Frame size"). */
export const MAX_FRAME = (256 << 10) + 64;
const LOG_HISTORY = 1000;
const RATE_TURNAROUND_MS = C.rateTurnaroundMs;

export interface DeviceOptions {
  limits: PlatformLimits;
  /** INFO.maxFrame: the longest frame this device takes, in wire bytes (default MAX_FRAME). Its links decode with it. */
  maxFrame?: number;
  store: SlotStore;
  firmware: string;
  /** Serial number reported in INFO. */
  serial?: string;
  /** Fsync the upload and advance its durable mark every this many bytes (and every 250 ms, at END, on disconnect). */
  checkpointBytes: number;
  crashAt?: CrashPhase;
  /** What crashing means: the CLI kills its own process; in-process callers halt the device. */
  crash: (phase: CrashPhase) => void;
  /** Line rates that do not work on this line (a test fault): frames at them are lost. */
  badRates?: number[];
  /**
   * Test fault: hold the first upload after its first block (its DATA frames are dropped, so the host
   * waits for acks) until the device answers another host BUSY or `releaseHold()` is called. Lets a test
   * put a second host in front of a device that is surely mid-upload.
   */
  holdUpload?: boolean;
  /**
   * With holdUpload: hold once the upload has this many bytes (default 1: after its first block). The
   * blocks before are acknowledged as usual, so a host shows live progress and then surely stalls.
   */
  holdAfter?: number;
  /**
   * Test fault: the device does not send its reply to the first N requests of these types (e.g.
   * `{ ROLLBACK: 1 }`), as when the reply is lost on the line; the request itself is carried out.
   */
  dropReplies?: Partial<Record<string, number>>;
  log?: (message: string) => void;
}

/** The serial line of one connection (absent on TCP). */
export interface LineControl {
  rate: number;
  rates: number[];
  set(baud: number): Promise<void>;
}

interface Upload {
  sha256: string;
  size: number;
  slot: 'A' | 'B';
  /** Bytes of the stream received: the payload, or (delta) the listed blocks one after another. */
  received: number;
  /** Length of that stream. */
  length: number;
  /** Delta upload: the blocks of the payload the stream carries (units of blockSize). */
  blocks: number[] | undefined;
  blockSize: number;
  /** Largest block the host announced (BEGIN.blockSize): no DATA inflates past it. */
  maxBlock: number;
  fd: number | undefined;
  owner: FrameLink;
  checkpointAt: number;
  checkpointTime: number;
  nakedAt: number;
}

/** A host's hold on the device from BEGIN to COMMIT (or until its connection closes). */
interface Claim {
  owner: FrameLink;
  /** READY.upload: VERIFIED and COMMIT name it. */
  id: string;
  sha256: string;
  /** END answered VERIFIED for this claim. */
  verified: boolean;
}

class Refusal extends Error {
  readonly body: DeviceErrorBody;
  constructor(code: DeviceErrorBody['code'], message: string) {
    super(message);
    this.body = { code, message };
  }
}

export class Device {
  private readonly o: DeviceOptions;
  private upload: Upload | null = null;
  private claim: Claim | null = null;
  /** The last COMMIT, so a resent COMMIT (its COMMITTED was lost) is answered again. */
  private lastCommit: { id: string; sha256: string } | null = null;
  private hold: 'off' | 'armed' | 'holding' | 'released';
  private readonly history: LogLine[] = [];
  private readonly monitors = new Set<FrameLink>();
  private readonly runs = new Set<PayloadRun>();
  /** Replies still to drop (test fault dropReplies), per connection. */
  private readonly mute = new WeakMap<FrameLink, number>();
  private readonly dropsLeft: Map<number, number>;

  constructor(options: DeviceOptions) {
    this.o = options;
    this.hold = options.holdUpload ? 'armed' : 'off';
    this.dropsLeft = new Map(
      Object.entries(options.dropReplies ?? {}).flatMap(([name, n]) =>
        Msg[name as keyof typeof Msg] !== undefined && n ? [[Msg[name as keyof typeof Msg], n]] : [],
      ),
    );
  }

  /** Send the reply to a request, unless the test fault dropReplies swallows it. */
  private async reply(link: FrameLink, type: number, body: Buffer): Promise<void> {
    const muted = this.mute.get(link) ?? 0;
    if (muted > 0) {
      this.mute.set(link, muted - 1);
      this.o.log?.(`fault: dropped the ${MSG_NAMES[type]} reply`);
      return;
    }
    await link.send(type, body);
  }

  /** The longest frame this device takes, in wire bytes: serve its connections with a FrameLink of this limit. */
  get maxFrame(): number {
    return this.o.maxFrame ?? MAX_FRAME;
  }

  /** End the test hold (holdUpload) of the first upload. */
  releaseHold(): void {
    if (this.hold !== 'holding' && this.hold !== 'armed') return;
    if (this.hold === 'holding') this.o.log?.('hold released: the held upload continues');
    this.hold = 'released';
  }

  /** The claim of another host that is still connected, if any (a claim dies with its connection). */
  private claimedByOther(link: FrameLink): Claim | undefined {
    const c = this.claim;
    if (!c) return undefined;
    if (c.owner.closed) {
      this.claim = null;
      return undefined;
    }
    return c.owner === link ? undefined : c;
  }

  /** Refuse `what` while another host deploys; the host maps BUSY to DEVICE_BUSY. */
  private refuseIfBusy(link: FrameLink, what: string): void {
    const other = this.claimedByOther(link);
    if (!other) return;
    this.releaseHold();
    throw new Refusal('BUSY', `another host is deploying sha256:${other.sha256.slice(0, 12)} to this device; ${what} refused until it commits or disconnects`);
  }

  private get store(): SlotStore {
    return this.o.store;
  }

  info(line?: LineControl): DeviceInfo {
    return {
      version: PROTOCOL_VERSION,
      platform: this.o.limits.id,
      memory: this.o.limits.memory,
      threads: this.o.limits.threads,
      slots: 2,
      maxFrame: this.maxFrame,
      compression: [...COMPRESSIONS],
      lineRates: line?.rates ?? [],
      lineRate: line?.rate ?? 0,
      firmware: this.o.firmware,
      ...(this.o.serial ? { serial: this.o.serial } : {}),
      features: [FEATURES.blockHashes, FEATURES.slotHash],
    };
  }

  private reach(phase: CrashPhase): void {
    if (this.o.crashAt === phase) this.o.crash(phase);
  }

  /** Serve one connection until it closes. */
  async serve(link: FrameLink, line?: LineControl): Promise<void> {
    let dropped = 0;
    let fallback: { timer: NodeJS.Timeout; rate: number } | undefined;
    // A damaged frame during this host's upload is NAKed at once (docs/protocol.md, step 4), not when
    // the next good frame happens to arrive: the host may have nothing more in flight.
    link.onDropped = () => {
      dropped = link.dropped;
      this.nak(link).catch(() => {});
    };
    try {
      for (;;) {
        const frame = await link.nextOrTimeout(3600_000);
        if (link.dropped !== dropped) {
          dropped = link.dropped;
          await this.nak(link);
        }
        if (!frame) continue;
        if (line && this.o.badRates?.includes(line.rate)) continue; // the line garbles everything at this rate
        if (fallback) {
          clearTimeout(fallback.timer);
          fallback = undefined;
        }
        try {
          if (frame.type === Msg.SET_RATE && line) {
            const old = line.rate;
            await this.setRate(link, line, frame);
            fallback = {
              rate: old,
              timer: setTimeout(() => {
                this.o.log?.(`no frame at ${line.rate} baud: back to ${old}`);
                void line.set(old);
                fallback = undefined;
              }, RATE_FALLBACK_MS),
            };
          } else {
            const drops = this.dropsLeft.get(frame.type) ?? 0;
            if (drops > 0) {
              this.dropsLeft.set(frame.type, drops - 1);
              this.mute.set(link, 1);
            }
            await this.handle(link, frame, line);
          }
        } catch (err) {
          if (err instanceof FlightDeckError && err.code === 'DEVICE_DISCONNECTED') throw err;
          // A refusal, or a fault of the device itself (e.g. its disk is full): the host gets the reason.
          const body: DeviceErrorBody = err instanceof Refusal ? err.body : { code: 'REFUSED', message: `device error: ${(err as Error).message}` };
          this.o.log?.(`refused ${MSG_NAMES[frame.type] ?? frame.type}: ${body.message}`);
          await link.send(Msg.ERROR, json(body));
        }
      }
    } catch (err) {
      if (!(err instanceof FlightDeckError && err.code === 'DEVICE_DISCONNECTED')) throw err;
    } finally {
      if (fallback) clearTimeout(fallback.timer);
      this.monitors.delete(link);
      if (this.upload?.owner === link) this.checkpoint(this.upload);
      if (this.claim?.owner === link) this.claim = null;
    }
  }

  private async handle(link: FrameLink, frame: Frame, line: LineControl | undefined): Promise<void> {
    switch (frame.type) {
      case Msg.HELLO:
        this.reach('handshake');
        return this.reply(link, Msg.INFO, json(this.info(line)));
      case Msg.STATUS:
        return this.reply(link, Msg.STATE, json(this.state()));
      case Msg.HASHES:
        return this.reply(link, Msg.BLOCKS, json(this.blockHashes(frame)));
      case Msg.BEGIN:
        return this.begin(link, frame);
      case Msg.DATA:
        return this.data(link, frame);
      case Msg.END:
        return this.end(link);
      case Msg.COMMIT:
        return this.commit(link, frame);
      case Msg.ROLLBACK:
        return this.rollback(link, frame);
      case Msg.RUN:
        return this.run(link);
      case Msg.MONITOR:
        return this.monitor(link, frame);
      case Msg.SET_RATE:
        throw new Refusal('REFUSED', 'this connection has no line rate');
      default:
        throw new Refusal('PROTOCOL', `unexpected ${MSG_NAMES[frame.type] ?? `message 0x${frame.type.toString(16)}`}`);
    }
  }

  private async setRate(link: FrameLink, line: LineControl, frame: Frame): Promise<void> {
    const req = parseBody(SetRateSchema, frame.body);
    if (!req || !line.rates.includes(req.baud)) throw new Refusal('REFUSED', `line rate ${req?.baud} is not one of ${line.rates.join(', ')}`);
    await link.send(Msg.RATE_OK, json({ baud: req.baud }));
    // Changing the rate flushes the port's buffers: let RATE_OK leave first (a UART's turnaround time).
    await new Promise((resolve) => setTimeout(resolve, RATE_TURNAROUND_MS));
    await line.set(req.baud);
  }

  private async begin(link: FrameLink, frame: Frame): Promise<void> {
    const req = request(BeginSchema, frame, 'BEGIN');
    const maxBlock = this.maxFrame - C.blockHeadroom;
    if (req.blockSize > maxBlock)
      throw new Refusal('PROTOCOL', `BEGIN.blockSize: ${req.blockSize} is over the ${maxBlock} bytes a frame of this device carries`);
    this.refuseIfBusy(link, 'BEGIN');
    if (req.size > this.o.limits.memory) {
      throw new Refusal('REFUSED', `payload of ${req.size} bytes exceeds the ${this.o.limits.memory} bytes of ${this.o.limits.name}`);
    }
    const { state } = this.store;
    if (state.active && state.slots[state.active]?.sha256 === req.sha256) {
      if (this.claim?.owner === link) this.claim = null;
      return this.reply(link, Msg.READY, json({ slot: state.active, offset: req.size, state: 'active' }));
    }
    const claim = this.claimFor(link, req.sha256);
    const slot = this.store.inactive();
    if (state.slots[slot]?.sha256 === req.sha256 && !req.fresh) {
      return this.reply(link, Msg.READY, json({ slot, offset: req.size, state: 'verified', upload: claim.id }));
    }
    if (req.delta) return this.beginDelta(link, req, slot, claim);
    let offset = 0;
    const current = this.upload;
    if (current && !current.blocks && current.sha256 === req.sha256 && !req.fresh) {
      offset = current.received; // same device run: every written byte is good
      current.owner = link;
      current.maxBlock = req.blockSize;
    } else {
      this.closeUpload();
      const j = this.store.journal;
      const partial = this.store.partialFile(slot);
      const size = fileSize(partial);
      if (j && j.sha256 === req.sha256 && j.slot === slot && j.size === req.size && !req.fresh && size >= j.durable) {
        offset = j.durable;
      } else {
        this.store.discardUpload();
        this.store.clearSlot(slot);
        this.store.writeJournal({ sha256: req.sha256, size: req.size, slot, durable: 0 });
      }
      const fd = fs.openSync(partial, offset === 0 ? 'w' : 'r+');
      fs.ftruncateSync(fd, offset);
      this.upload = { ...this.newUpload(link, req.sha256, req.size, slot, fd, req.blockSize), received: offset, checkpointAt: offset };
    }
    this.o.log?.(`BEGIN ${req.sha256.slice(0, 12)} (${req.size} bytes, ${req.compression}) into slot ${slot} from byte ${offset}`);
    this.reach('begin');
    return this.reply(link, Msg.READY, json({ slot, offset, state: 'upload', upload: claim.id }));
  }

  /** This host's claim on the device for `sha256`: kept on a resent BEGIN, so its id stays the same. */
  private claimFor(link: FrameLink, sha256: string): Claim {
    if (this.claim?.owner !== link || this.claim.sha256 !== sha256) this.claim = { owner: link, id: randomBytes(16).toString('hex'), sha256, verified: false };
    this.claim.verified = false;
    return this.claim;
  }

  private newUpload(owner: FrameLink, sha256: string, size: number, slot: 'A' | 'B', fd: number, maxBlock: number): Upload {
    return {
      sha256,
      size,
      slot,
      received: 0,
      length: size,
      blocks: undefined,
      blockSize: 0,
      maxBlock,
      fd,
      owner,
      checkpointAt: 0,
      checkpointTime: Date.now(),
      nakedAt: -1,
    };
  }

  /** What STATUS and COMMITTED report, with the device's own hash of the active slot's bytes. */
  private state(): DeviceState {
    const active = this.store.state.active;
    return { ...this.store.snapshot(this.o.limits.id), activeHash: active ? this.store.hashFile(this.store.slotFile(active)) : null };
  }

  private blockHashes(frame: Frame): Blocks {
    const req = request(HashesSchema, frame, 'HASHES');
    const size = this.store.state.active ? (this.store.state.slots[this.store.state.active]?.size ?? 0) : 0;
    if (Math.ceil(size / req.blockSize) > C.maxBlockHashes) {
      throw new Refusal('PROTOCOL', `HASHES.blockSize: ${req.blockSize} makes more than ${C.maxBlockHashes} blocks of the ${size}-byte active payload`);
    }
    const active = this.store.state.active;
    const content = active ? this.store.state.slots[active] : null;
    if (!active || !content) return { sha256: null, size: 0, blockSize: req.blockSize, hashes: [] };
    const bytes = fs.readFileSync(this.store.slotFile(active));
    const hashes: string[] = [];
    for (let at = 0; at < bytes.length; at += req.blockSize)
      hashes.push(
        createHash('sha256')
          .update(bytes.subarray(at, at + req.blockSize))
          .digest('hex'),
      );
    this.o.log?.(`block hashes of ${content.sha256.slice(0, 12)}: ${hashes.length} blocks of ${req.blockSize} bytes`);
    return { sha256: content.sha256, size: bytes.length, blockSize: req.blockSize, hashes };
  }

  /**
   * Fast reflash: the inactive slot starts as a copy of the active payload (cut or grown to the new size),
   * and the stream that follows overwrites only the listed blocks. Not resumable: a cut starts over.
   */
  private async beginDelta(link: FrameLink, req: Begin, slot: 'A' | 'B', claim: Claim): Promise<void> {
    const { base, blocks } = req.delta!;
    const active = this.store.state.active;
    if (!active || this.store.state.slots[active]?.sha256 !== base) throw new Refusal('REFUSED', `delta base sha256:${base} is not the active payload`);
    const count = Math.ceil(req.size / req.blockSize);
    if (blocks.some((b, i) => b >= count || (i > 0 && b <= blocks[i - 1]!)))
      throw new Refusal('PROTOCOL', 'delta blocks must ascend and lie inside the payload');
    this.closeUpload();
    this.store.discardUpload();
    this.store.clearSlot(slot);
    this.store.writeJournal({ sha256: req.sha256, size: req.size, slot, durable: 0 });
    const partial = this.store.partialFile(slot);
    fs.copyFileSync(this.store.slotFile(active), partial);
    const fd = fs.openSync(partial, 'r+');
    fs.ftruncateSync(fd, req.size);
    const length = blocks.reduce((sum, b) => sum + Math.min(req.blockSize, req.size - b * req.blockSize), 0);
    this.upload = { ...this.newUpload(link, req.sha256, req.size, slot, fd, req.blockSize), length, blocks, blockSize: req.blockSize };
    this.o.log?.(`BEGIN ${req.sha256.slice(0, 12)} as a delta of ${base.slice(0, 12)}: ${blocks.length} of ${count} blocks into slot ${slot}`);
    this.reach('begin');
    return this.reply(link, Msg.READY, json({ slot, offset: 0, state: 'upload', upload: claim.id }));
  }

  /** Write stream bytes: at their offset, or (delta) at the place of the blocks they belong to. */
  private write(u: Upload, raw: Buffer): void {
    if (!u.blocks) {
      fs.writeSync(u.fd!, raw, 0, raw.length, u.received);
      return;
    }
    for (let done = 0; done < raw.length;) {
      const at = u.received + done;
      const within = at % u.blockSize;
      const n = Math.min(raw.length - done, u.blockSize - within);
      fs.writeSync(u.fd!, raw, done, n, u.blocks[Math.floor(at / u.blockSize)]! * u.blockSize + within);
      done += n;
    }
  }

  private async data(link: FrameLink, frame: Frame): Promise<void> {
    const u = this.upload;
    if (!u || u.owner !== link || u.fd === undefined) return; // a straggler after END or from an old session
    const block = decodeData(frame.body);
    if (!block) throw new Refusal('PROTOCOL', 'malformed DATA');
    if (block.offset < u.received) return link.send(Msg.ACK, u32(u.received));
    if (this.hold === 'armed' && u.received >= Math.max(1, this.o.holdAfter ?? 1)) {
      this.hold = 'holding';
      this.o.log?.(`holding the upload of ${u.sha256.slice(0, 12)} at byte ${u.received} until another host is answered`);
    }
    if (this.hold === 'holding') return; // test fault: the held upload gets no acks
    if (block.offset > u.received) return this.nak(link);
    // Never inflate past the space left in the upload or the announced block size (not the sender's rawLength).
    const raw = unpackBlock(block, Math.min(u.length - u.received, u.maxBlock));
    if (!raw) return this.nak(link);
    this.write(u, raw);
    const before = u.received;
    u.received += raw.length;
    u.nakedAt = -1;
    if (u.received - u.checkpointAt >= this.o.checkpointBytes || Date.now() - u.checkpointTime >= C.checkpointMs) this.checkpoint(u);
    if (before < u.length / 2 && u.received >= u.length / 2) this.reach('mid-block');
    return link.send(Msg.ACK, u32(u.received));
  }

  /** One NAK per gap: the host goes back to `received` and resends from there. */
  private async nak(link: FrameLink): Promise<void> {
    const u = this.upload;
    if (!u || u.owner !== link || u.nakedAt === u.received) return;
    u.nakedAt = u.received;
    await link.send(Msg.NAK, u32(u.received));
  }

  private checkpoint(u: Upload): void {
    if (u.fd === undefined || u.blocks || u.received === this.store.journal?.durable) return;
    fs.fsyncSync(u.fd);
    this.store.writeJournal({ sha256: u.sha256, size: u.size, slot: u.slot, durable: u.received });
    u.checkpointAt = u.received;
    u.checkpointTime = Date.now();
  }

  private closeUpload(): void {
    if (this.upload?.fd !== undefined) fs.closeSync(this.upload.fd);
    this.upload = null;
  }

  private async end(link: FrameLink): Promise<void> {
    this.refuseIfBusy(link, 'END');
    const claim = this.claim;
    if (!claim || claim.owner !== link) throw new Refusal('PROTOCOL', 'END without a BEGIN on this connection');
    const u = this.upload;
    const slot = this.store.inactive();
    const ready = this.store.state.slots[slot];
    if (!u || u.owner !== link) {
      // END again after VERIFIED was lost, or for a payload that waits verified in the inactive slot.
      if (ready && ready.sha256 === claim.sha256 && this.store.hashFile(this.store.slotFile(slot)) === ready.sha256) {
        claim.verified = true;
        return this.reply(link, Msg.VERIFIED, json({ sha256: ready.sha256, slot, upload: claim.id }));
      }
      throw new Refusal('PROTOCOL', 'END without an upload');
    }
    if (u.received !== u.length) throw new Refusal('PROTOCOL', `END at byte ${u.received} of ${u.length}`);
    this.reach('end');
    this.checkpoint(u);
    if (u.blocks) fs.fsyncSync(u.fd!);
    this.closeUpload();
    const partial = this.store.partialFile(u.slot);
    const actual = this.store.hashFile(partial);
    if (actual !== u.sha256) {
      this.store.discardUpload();
      throw new Refusal('VERIFY_FAILED', `payload hashes to sha256:${actual}, not sha256:${u.sha256}; upload discarded`);
    }
    const checked = await checkLimits(fs.readFileSync(partial), this.o.limits);
    if (!checked.ok) {
      this.store.discardUpload();
      throw new Refusal('REFUSED', `payload does not fit ${this.o.limits.name}: ${checked.findings.map((f) => f.message).join('; ')}`);
    }
    this.store.install(u.slot, u.sha256, u.size);
    this.o.log?.(`verified ${u.sha256.slice(0, 12)} in slot ${u.slot}`);
    claim.verified = claim.sha256 === u.sha256;
    this.reach('verify');
    return this.reply(link, Msg.VERIFIED, json({ sha256: u.sha256, slot: u.slot, upload: claim.id }));
  }

  /**
   * COMMIT names the upload (READY.upload) it commits: only the host that holds the claim, after its own
   * END was VERIFIED, switches the slot. A resent COMMIT of the last commit is answered again while that
   * payload is still the active one.
   */
  private async commit(link: FrameLink, frame: Frame): Promise<void> {
    const req = request(CommitSchema, frame, 'COMMIT');
    const { state } = this.store;
    const activeSha = state.active ? state.slots[state.active]?.sha256 : undefined;
    const committed = { sha256: req.sha256, upload: req.upload };
    if (this.lastCommit?.id === req.upload && this.lastCommit.sha256 === req.sha256 && activeSha === req.sha256) {
      return this.reply(link, Msg.COMMITTED, json({ ...this.state(), committed }));
    }
    this.refuseIfBusy(link, 'COMMIT');
    const claim = this.claim;
    if (!claim || claim.owner !== link || claim.id !== req.upload || claim.sha256 !== req.sha256 || !claim.verified) {
      throw new Refusal('REFUSED', `upload ${req.upload} of sha256:${req.sha256} is not a verified upload of this connection; nothing committed`);
    }
    const slot = (['A', 'B'] as const).find((s) => state.slots[s]?.sha256 === req.sha256);
    if (!slot) throw new Refusal('REFUSED', `no verified payload sha256:${req.sha256} to commit`);
    if (state.active !== slot) {
      // The 'commit' crash point sits between the fsync of the new state.json.tmp and its rename.
      this.store.writeState({ ...state, active: slot }, 'commit-rename');
      this.o.log?.(`committed ${req.sha256.slice(0, 12)} (upload ${req.upload}): slot ${slot} is active`);
    }
    this.lastCommit = { id: req.upload, sha256: req.sha256 };
    this.claim = null;
    return this.reply(link, Msg.COMMITTED, json({ ...this.state(), committed }));
  }

  /**
   * ROLLBACK `{sha256}` makes the payload it names active: the previous one, in the inactive slot. Naming
   * the target makes it idempotent: when that payload is already active (a resent ROLLBACK whose STATE
   * was lost), nothing changes and STATE is sent again; it never swaps back.
   */
  private async rollback(link: FrameLink, frame: Frame): Promise<void> {
    const req = request(RollbackSchema, frame, 'ROLLBACK');
    this.refuseIfBusy(link, 'ROLLBACK');
    const { state } = this.store;
    if (state.active && state.slots[state.active]?.sha256 === req.sha256) {
      this.o.log?.(`rollback to ${req.sha256.slice(0, 12)}: already active in slot ${state.active}`);
      return this.reply(link, Msg.STATE, json(this.state()));
    }
    const other = this.store.inactive();
    if (state.slots[other]?.sha256 !== req.sha256 || this.upload?.slot === other) {
      throw new Refusal('REFUSED', `no previous payload sha256:${req.sha256} to roll back to; nothing changed`);
    }
    this.store.writeState({ ...state, active: other });
    this.o.log?.(`rolled back to ${req.sha256.slice(0, 12)}: slot ${other} is active`);
    return this.reply(link, Msg.STATE, json(this.state()));
  }

  private async monitor(link: FrameLink, frame: Frame): Promise<void> {
    const req = request(MonitorSchema, frame, 'MONITOR');
    for (const line of this.history) await link.send(Msg.LOG, json(line));
    if (req.follow) this.monitors.add(link);
    else await this.reply(link, Msg.MONITOR_END, json({}));
  }

  private emitLog(line: LogLine, requester: FrameLink): void {
    this.history.push(line);
    if (this.history.length > LOG_HISTORY) this.history.shift();
    for (const target of new Set([requester, ...this.monitors])) {
      if (!target.closed) target.send(Msg.LOG, json(line)).catch(() => {});
    }
  }

  /** Start the active payload in a worker thread (emulator/runner.ts): WASI stdout/stderr come back as LOG frames. */
  private async run(link: FrameLink): Promise<void> {
    const { state } = this.store;
    const active = state.active ? state.slots[state.active] : null;
    if (!state.active || !active) throw new Refusal('REFUSED', 'no committed payload to run');
    this.emitLog({ stream: 'device', text: `run ${active.sha256.slice(0, 12)} from slot ${state.active}\n` }, link);
    const run = runPayload(this.store.slotFile(state.active), (stream, text) => this.emitLog({ stream, text }, link));
    this.runs.add(run);
    const code = await run.exited;
    this.runs.delete(run);
    this.emitLog({ stream: 'device', text: `exited with code ${code}\n` }, link);
    if (!link.closed) await this.reply(link, Msg.EXIT, json({ code }));
  }

  /** Stop running payloads and close the upload file (the device powers off). */
  shutdown(): void {
    for (const run of this.runs) run.kill();
    if (this.upload) this.checkpoint(this.upload);
    this.closeUpload();
  }
}

/** A request body parsed against its schema; `PROTOCOL` naming the field and the problem otherwise. */
function request<T>(schema: z.ZodType<T>, frame: Frame, name: string): T {
  const r = parseMessage(schema, frame.body, name);
  if (!r.ok) throw new Refusal('PROTOCOL', `malformed ${name}: ${r.problem}`);
  return r.value;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}
