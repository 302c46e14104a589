/**
 * `flightdeck device conformance URI`: a scripted suite that checks a device against docs/protocol.md,
 * for vendors bringing up firmware. It speaks the protocol through the host session and raw frames:
 * handshake, each message, resent requests (as when a reply is lost), cuts at each phase, resume,
 * ROLLBACK retry, one host at a time, and the device's limits. The device ends with suite payloads in its
 * slots (tiny WASM modules of custom sections). CI runs it against the reference emulator and against
 * test/conformance/device.py, a device written from the spec alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { FlightDeckError } from '../errors.js';
import { encodeFrame, type Frame } from './framing.js';
import {
  BlocksSchema,
  CommittedSchema,
  encodeData,
  ErrorSchema,
  json,
  Msg,
  MSG_NAMES,
  parseMessage,
  PROTOCOL_CONSTANTS as C,
  ReadySchema,
  StateSchema,
  VerifiedSchema,
  FEATURES,
  type DeviceState,
} from './protocol.js';
import type { ConformanceCheck, ConformanceReport } from './schema.js';
import { HostSession, type SessionTimings } from './session.js';
import type { ByteTransport } from './transport.js';

export interface ConformanceOptions {
  /** Opens a new connection to the device (the suite reconnects after each cut). */
  open: () => Promise<ByteTransport>;
  timings?: Partial<SessionTimings>;
  /** Bytes of the larger suite payload (default 96 KiB; the smaller is half). */
  payloadSize?: number;
  signal?: AbortSignal;
  onCheck?: (check: ConformanceCheck) => void;
}

/** A minimal core module: optionally one memory of `pages` pages, then a custom section of `bytes`. */
export function suiteModule(bytes: Buffer, pages?: number): Buffer {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, content: Buffer) => Buffer.concat([Buffer.from([id, ...leb(content.length)]), content]);
  const name = Buffer.from('flightdeck-conformance');
  const parts = [Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])];
  if (pages !== undefined) parts.push(section(5, Buffer.from([1, 0x00, ...leb(pages)])));
  parts.push(section(0, Buffer.concat([Buffer.from(leb(name.length)), name, bytes])));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

class CheckFailed extends Error {}
function expect(ok: unknown, message: string): asserts ok {
  if (!ok) throw new CheckFailed(message);
}

export async function runConformance(o: ConformanceOptions): Promise<ConformanceReport> {
  const timings = { replyMs: C.replyMs, ackMs: C.ackMs, maxRetries: C.maxRetries, ...o.timings };
  const size = Math.max(8192, o.payloadSize ?? 96 << 10);
  const P1 = suiteModule(randomBytes(size >> 1));
  const P2 = suiteModule(randomBytes(size));
  const P3 = suiteModule(randomBytes(size >> 2));
  const checks: ConformanceCheck[] = [];
  const open: HostSession[] = [];
  const connect = async (): Promise<HostSession> => {
    const s = await HostSession.open(await o.open(), { timings, ...(o.signal ? { signal: o.signal } : {}) });
    open.push(s);
    return s;
  };
  const cut = async (s: HostSession) => {
    await s.close().catch(() => {});
  };

  /** Send a request and return the reply of type `want` or the device's ERROR (skipping late ACK/NAK). */
  const ask = async (s: HostSession, type: number, body: unknown, want: number): Promise<Frame> => {
    await s.link.send(type, body instanceof Buffer ? body : json(body));
    const deadline = Date.now() + timings.replyMs;
    for (;;) {
      const f = await s.link.nextOrTimeout(deadline - Date.now(), o.signal);
      if (!f) throw new CheckFailed(`no reply to ${MSG_NAMES[type] ?? `message 0x${type.toString(16)}`} within ${timings.replyMs} ms`);
      if (f.type === want || f.type === Msg.ERROR) return f;
    }
  };
  const body = <T>(schema: Parameters<typeof parseMessage<T>>[0], f: Frame): T => {
    const name = MSG_NAMES[f.type] ?? `0x${f.type.toString(16)}`;
    const r = parseMessage(schema, f.body, name);
    if (!r.ok) throw new CheckFailed(r.problem);
    return r.value;
  };
  const errorCode = (f: Frame): string | undefined => (f.type === Msg.ERROR ? body(ErrorSchema, f).code : undefined);
  const expectError = (f: Frame, code: string, what: string) => {
    expect(f.type === Msg.ERROR, `${what}: expected ERROR ${code}, got ${MSG_NAMES[f.type] ?? f.type}`);
    const got = errorCode(f);
    expect(got === code, `${what}: expected ERROR ${code}, got ERROR ${got}`);
  };
  const activeSha = (st: DeviceState) => (st.active ? (st.slots[st.active]?.sha256 ?? null) : null);
  const status = async (s: HostSession) => body(StateSchema, await ask(s, Msg.STATUS, {}, Msg.STATE));
  /** The whole deploy through the host session (upload in 4 KiB blocks so cuts land mid-upload). */
  const deploy = async (s: HostSession, p: Buffer, onProgress?: (done: number) => void) => {
    const up = await s.upload(p, sha(p), {
      compression: 'none',
      fresh: false,
      blockSize: 4096,
      ...(onProgress ? { onProgress: (x) => onProgress(x.done) } : {}),
    });
    if (up.state !== 'active') {
      await s.verify(sha(p), p.length, up.upload);
      await s.commit(sha(p), up.upload);
    }
    return up;
  };

  const check = async (id: string, title: string, fn: () => Promise<string | void>) => {
    const started = Date.now();
    let result: ConformanceCheck;
    try {
      const detail = await fn();
      result = { id, title, ok: true, detail: detail ?? '', ms: Date.now() - started };
    } catch (err) {
      if (err instanceof FlightDeckError && err.code === 'ABORTED') throw err;
      const message = err instanceof CheckFailed ? err.message : err instanceof FlightDeckError ? `${err.code}: ${err.message}` : String(err);
      result = { id, title, ok: false, detail: message, ms: Date.now() - started };
    } finally {
      await Promise.all(open.splice(0).map(cut));
    }
    checks.push(result);
    o.onCheck?.(result);
  };

  let info: HostSession['info'] | undefined;
  await check('handshake', 'HELLO is answered by INFO (schema, version 1, maxFrame); a second HELLO again', async () => {
    const s = await connect();
    info = s.info;
    expect(info.version === 1, `INFO.version: expected 1, got ${info.version}`);
    expect(info.maxFrame >= C.minMaxFrame, `INFO.maxFrame: expected at least ${C.minMaxFrame}, got ${info.maxFrame}`);
    expect(info.compression.includes('none') || info.compression.length > 0, 'INFO.compression: empty');
    const again = await ask(s, Msg.HELLO, { version: 1 }, Msg.INFO);
    expect(again.type === Msg.INFO, 'a second HELLO got no INFO');
    return `${info.platform}, ${info.memory} bytes, ${info.threads} thread(s), maxFrame ${info.maxFrame}, features ${(info.features ?? []).join(',') || 'none'}`;
  });
  if (!info) return { device: null, checks, passed: 0, failed: checks.length };
  const features = info.features ?? [];

  await check('status', 'STATUS is answered by STATE', async () => {
    const st = await status(await connect());
    return `active ${st.active ?? 'none'}`;
  });
  await check('malformed', 'malformed BEGIN, BEGIN over maxFrame, ROLLBACK {} and an unknown type get ERROR PROTOCOL', async () => {
    const s = await connect();
    expectError(await ask(s, Msg.BEGIN, { sha256: 'x' }, Msg.READY), 'PROTOCOL', 'BEGIN {sha256: "x"}');
    const big = { sha256: sha(P1), size: P1.length, blockSize: info!.maxFrame - C.blockHeadroom + 1, compression: 'none', fresh: false };
    expectError(await ask(s, Msg.BEGIN, big, Msg.READY), 'PROTOCOL', 'BEGIN.blockSize over maxFrame - 64');
    expectError(await ask(s, Msg.ROLLBACK, {}, Msg.STATE), 'PROTOCOL', 'ROLLBACK {}');
    expectError(await ask(s, 0x55, {}, Msg.STATE), 'PROTOCOL', 'message type 0x55');
  });
  await check('deploy', 'BEGIN, DATA, END, COMMIT: a payload becomes active (COMMITTED names the upload)', async () => {
    const s = await connect();
    await deploy(s, P1);
    const st = await status(s);
    expect(activeSha(st) === sha(P1), `STATE: active payload ${activeSha(st)}, not the one committed`);
    if (features.includes(FEATURES.slotHash)) expect(st.activeHash === sha(P1), `STATE.activeHash: ${st.activeHash}, not sha256 of the slot`);
  });
  await check('begin-active', 'BEGIN of the active payload: READY active, offset = size', async () => {
    const s = await connect();
    const r = body(ReadySchema, await ask(s, Msg.BEGIN, { sha256: sha(P1), size: P1.length, blockSize: 4096, compression: 'none', fresh: false }, Msg.READY));
    expect(r.state === 'active', `READY.state: expected "active", got "${r.state}"`);
    expect(r.offset === P1.length, `READY.offset: expected ${P1.length}, got ${r.offset}`);
  });
  const begin2 = { sha256: sha(P2), size: P2.length, blockSize: 4096, compression: 'none', fresh: true };
  await check('begin-resend', 'a resent BEGIN (READY lost) is answered with the same upload id', async () => {
    const s = await connect();
    const a = body(ReadySchema, await ask(s, Msg.BEGIN, begin2, Msg.READY));
    const b = body(ReadySchema, await ask(s, Msg.BEGIN, { ...begin2, fresh: false }, Msg.READY));
    expect(a.state === 'upload' && a.offset === 0, `READY: expected upload at 0, got ${a.state} at ${a.offset}`);
    expect(a.upload !== undefined && a.upload === b.upload, `READY.upload: ${a.upload}, then ${b.upload}`);
  });
  await check('data', 'DATA: a gap gets one NAK of the expected offset, a duplicate is re-ACKed, a bad frame gets a NAK', async () => {
    const s = await connect();
    body(ReadySchema, await ask(s, Msg.BEGIN, begin2, Msg.READY));
    const block = (n: number) => encodeData(n * 4096, P2.subarray(n * 4096, (n + 1) * 4096), 'none');
    const nak = await ask(s, Msg.DATA, block(1), Msg.NAK);
    expect(nak.type === Msg.NAK && nak.body.readUInt32LE(0) === 0, 'DATA past a gap: expected NAK 0');
    const ack = await ask(s, Msg.DATA, block(0), Msg.ACK);
    expect(ack.type === Msg.ACK && ack.body.readUInt32LE(0) === 4096, 'DATA at 0: expected ACK 4096');
    const dup = await ask(s, Msg.DATA, block(0), Msg.ACK);
    expect(dup.type === Msg.ACK && dup.body.readUInt32LE(0) === 4096, 'a duplicate DATA: expected ACK 4096');
    const bad = encodeFrame(Msg.DATA, block(1));
    bad[bad.length >> 1] = bad[bad.length >> 1]! === 0x00 ? 0x01 : 0x00; // a damaged byte mid-frame: the CRC fails
    await s.link.sendFrame(bad);
    const f = await s.link.nextOrTimeout(timings.replyMs, o.signal);
    expect(f?.type === Msg.NAK && f.body.readUInt32LE(0) === 4096, `a damaged DATA frame: expected NAK 4096, got ${f ? MSG_NAMES[f.type] : 'nothing'}`);
  });
  let resumed = 0;
  await check('cut-upload', 'a cut mid-upload: the next BEGIN resumes (READY.offset within what was acked), END verifies', async () => {
    const s = await connect();
    let acked = 0;
    await s
      .upload(P2, sha(P2), {
        compression: 'none',
        fresh: true,
        blockSize: 4096,
        window: 2,
        onProgress: (p) => {
          acked = p.done;
          if (p.done >= P2.length / 2) void s.link.transport.close();
        },
      })
      .then(
        () => {
          throw new CheckFailed('the upload finished though the connection was cut');
        },
        (err: unknown) => {
          if (err instanceof CheckFailed) throw err;
        },
      );
    const t = await connect();
    const st = await status(t);
    expect(activeSha(st) === sha(P1), 'after the cut the active payload changed');
    const up = await t.upload(P2, sha(P2), { compression: 'none', fresh: false, blockSize: 4096 });
    // The device may have taken the blocks in flight when the cable went (window 2 x 4 KiB).
    expect(up.resumedFrom <= acked + 2 * 4096, `READY.offset ${up.resumedFrom} is past the ${acked} bytes acknowledged and the 2 blocks in flight`);
    resumed = up.resumedFrom;
    await t.verify(sha(P2), P2.length, up.upload);
    const again = body(VerifiedSchema, await ask(t, Msg.END, {}, Msg.VERIFIED));
    expect(again.upload === up.upload && again.sha256 === sha(P2), 'a resent END: expected the same VERIFIED');
    return resumed > 0 ? `resumed from byte ${resumed} of ${acked} acked` : 'no resume (READY.offset 0): allowed, but the whole payload goes again';
  });
  await check('cut-verified', 'a cut between VERIFIED and COMMIT: the old payload stays active; BEGIN answers READY verified', async () => {
    const s = await connect();
    const st = await status(s);
    expect(activeSha(st) === sha(P1), 'the active payload changed before COMMIT');
    const r = body(ReadySchema, await ask(s, Msg.BEGIN, { ...begin2, fresh: false }, Msg.READY));
    expect(r.state === 'verified' && r.offset === P2.length, `READY: expected verified at ${P2.length}, got ${r.state} at ${r.offset}`);
    const v = body(VerifiedSchema, await ask(s, Msg.END, {}, Msg.VERIFIED));
    expect(v.upload === r.upload, 'VERIFIED.upload is not READY.upload');
    const c = body(CommittedSchema, await ask(s, Msg.COMMIT, { sha256: sha(P2), upload: r.upload }, Msg.COMMITTED));
    expect(c.committed.upload === r.upload && activeSha(c) === sha(P2), 'COMMITTED does not show the committed upload active');
    const again = body(CommittedSchema, await ask(s, Msg.COMMIT, { sha256: sha(P2), upload: r.upload }, Msg.COMMITTED));
    expect(again.committed.upload === r.upload, 'a resent COMMIT (COMMITTED lost): expected the same COMMITTED');
  });
  await check('stale-commit', 'a COMMIT of an upload this connection does not hold is REFUSED and changes nothing', async () => {
    const s = await connect();
    expectError(await ask(s, Msg.COMMIT, { sha256: sha(P1), upload: '0'.repeat(32) }, Msg.COMMITTED), 'REFUSED', 'COMMIT of a foreign upload');
    expect(activeSha(await status(s)) === sha(P2), 'the active payload changed');
  });
  await check('rollback', 'ROLLBACK {sha256} makes the previous payload active; the resend (STATE lost) does not swap back', async () => {
    const s = await connect();
    const a = body(StateSchema, await ask(s, Msg.ROLLBACK, { sha256: sha(P1) }, Msg.STATE));
    expect(activeSha(a) === sha(P1), `STATE after ROLLBACK: active ${activeSha(a)}, not the previous payload`);
    const b = body(StateSchema, await ask(s, Msg.ROLLBACK, { sha256: sha(P1) }, Msg.STATE));
    expect(activeSha(b) === sha(P1), 'the resent ROLLBACK swapped back');
    expectError(await ask(s, Msg.ROLLBACK, { sha256: sha(P3) }, Msg.STATE), 'REFUSED', 'ROLLBACK to a payload the device does not hold');
    expect(activeSha(await status(s)) === sha(P1), 'a refused ROLLBACK changed the active payload');
  });
  await check('cut-begin', 'a cut right after BEGIN and right after HELLO changes nothing; the next deploy completes', async () => {
    const s = await connect();
    body(ReadySchema, await ask(s, Msg.BEGIN, { sha256: sha(P3), size: P3.length, blockSize: 4096, compression: 'none', fresh: false }, Msg.READY));
    await cut(s);
    await cut(await connect());
    const t = await connect();
    expect(activeSha(await status(t)) === sha(P1), 'the active payload changed');
    await deploy(t, P3);
    expect(activeSha(await status(t)) === sha(P3), 'the deploy after the cuts did not commit');
  });
  await check('cut-commit', 'a cut right after COMMIT: the device has either payload active, and says which', async () => {
    const s = await connect();
    const up = await s.upload(P1, sha(P1), { compression: 'none', fresh: false, blockSize: 4096 });
    await s.verify(sha(P1), P1.length, up.upload);
    await s.link.send(Msg.COMMIT, json({ sha256: sha(P1), upload: up.upload }));
    await cut(s);
    const t = await connect();
    const now = activeSha(await status(t));
    expect(now === sha(P1) || now === sha(P3), `active ${now}: neither the old nor the new payload`);
    await deploy(t, P1);
    return now === sha(P1) ? 'the COMMIT was carried out' : 'the COMMIT was lost with the connection';
  });
  await check('verify-failed', 'bytes that do not hash to BEGIN.sha256: END answers VERIFY_FAILED and nothing changes', async () => {
    const s = await connect();
    const r = body(ReadySchema, await ask(s, Msg.BEGIN, { sha256: sha(P2), size: P3.length, blockSize: 4096, compression: 'none', fresh: true }, Msg.READY));
    expect(r.state === 'upload', `READY.state: ${r.state}`);
    for (let at = 0; at < P3.length; at += 4096) {
      const a = await ask(s, Msg.DATA, encodeData(at, P3.subarray(at, at + 4096), 'none'), Msg.ACK);
      expect(a.type === Msg.ACK, `DATA at ${at}: no ACK`);
    }
    expectError(await ask(s, Msg.END, {}, Msg.VERIFIED), 'VERIFY_FAILED', 'END of the wrong bytes');
    expect(activeSha(await status(s)) === sha(P1), 'the active payload changed');
  });
  await check('limits', 'a payload whose memory starts above INFO.memory: END answers REFUSED and nothing changes', async () => {
    const pages = Math.floor(info!.memory / 65536) + 1;
    if (pages > 65536) return 'skipped: INFO.memory is 4 GiB or more';
    const wide = suiteModule(randomBytes(64), pages);
    const s = await connect();
    const r = body(
      ReadySchema,
      await ask(s, Msg.BEGIN, { sha256: sha(wide), size: wide.length, blockSize: 4096, compression: 'none', fresh: true }, Msg.READY),
    );
    expect(r.state === 'upload', `READY.state: ${r.state}`);
    const a = await ask(s, Msg.DATA, encodeData(0, wide, 'none'), Msg.ACK);
    expect(a.type === Msg.ACK, 'DATA: no ACK');
    expectError(await ask(s, Msg.END, {}, Msg.VERIFIED), 'REFUSED', `END of a module with ${pages} pages of memory`);
    expect(activeSha(await status(s)) === sha(P1), 'the active payload changed');
  });
  await check('busy', "one host at a time: another connection's BEGIN, END, COMMIT and ROLLBACK get BUSY until the first one goes", async () => {
    const a = await connect();
    const b = await connect();
    body(ReadySchema, await ask(a, Msg.BEGIN, { ...begin2, fresh: false }, Msg.READY));
    expectError(await ask(b, Msg.BEGIN, { sha256: sha(P3), size: P3.length, blockSize: 4096, compression: 'none', fresh: false }, Msg.READY), 'BUSY', 'BEGIN');
    expectError(await ask(b, Msg.END, {}, Msg.VERIFIED), 'BUSY', 'END');
    expectError(await ask(b, Msg.COMMIT, { sha256: sha(P3), upload: '1'.repeat(32) }, Msg.COMMITTED), 'BUSY', 'COMMIT');
    expectError(await ask(b, Msg.ROLLBACK, { sha256: sha(P3) }, Msg.STATE), 'BUSY', 'ROLLBACK');
    expect((await ask(b, Msg.STATUS, {}, Msg.STATE)).type === Msg.STATE, 'STATUS during another host’s upload: no STATE');
    await cut(a);
    const r = body(ReadySchema, await ask(b, Msg.BEGIN, { sha256: sha(P3), size: P3.length, blockSize: 4096, compression: 'none', fresh: false }, Msg.READY));
    expect(r.state !== undefined, 'BEGIN after the other host left: no READY');
  });
  await check('compression', 'DATA blocks in each codec the device lists inflate to the payload', async () => {
    const s = await connect();
    const codecs = info!.compression.filter((c) => c !== 'none');
    if (codecs.length === 0) return 'none listed';
    for (const c of codecs) {
      const p = suiteModule(Buffer.alloc(size >> 1, c.length)); // compressible
      const up = await s.upload(p, sha(p), { compression: c, fresh: true, blockSize: 4096 });
      await s.verify(sha(p), p.length, up.upload);
    }
    return codecs.join(', ');
  });
  await check('block-hashes', 'HASHES is answered by BLOCKS with the SHA-256 of each block of the active payload', async () => {
    if (!features.includes(FEATURES.blockHashes)) return 'skipped: feature not offered';
    const s = await connect();
    const blocks = body(BlocksSchema, await ask(s, Msg.HASHES, { blockSize: 4096 }, Msg.BLOCKS));
    expect(blocks.sha256 === sha(P1) && blocks.size === P1.length, `BLOCKS names ${blocks.sha256}, not the active payload`);
    const want = Array.from({ length: Math.ceil(P1.length / 4096) }, (_, i) => sha(P1.subarray(i * 4096, (i + 1) * 4096)));
    expect(JSON.stringify(blocks.hashes) === JSON.stringify(want), 'BLOCKS.hashes differ from the SHA-256 of the blocks');
  });
  await check('run', 'RUN ends with EXIT; MONITOR {follow: false} ends with MONITOR_END', async () => {
    const s = await connect();
    await s.link.send(Msg.RUN, json({}));
    for (;;) {
      const f = await s.link.nextOrTimeout(Math.max(timings.replyMs, 30_000), o.signal);
      expect(f, 'RUN: no EXIT within 30 s');
      if (f.type === Msg.EXIT || f.type === Msg.ERROR) break;
    }
    await s.link.send(Msg.MONITOR, json({ follow: false }));
    for (;;) {
      const f = await s.link.nextOrTimeout(timings.replyMs, o.signal);
      expect(f, 'MONITOR: no MONITOR_END');
      if (f.type === Msg.MONITOR_END) break;
    }
  });
  const failed = checks.filter((c) => !c.ok).length;
  return {
    device: { platform: info.platform, firmware: info.firmware, serial: info.serial ?? null, maxFrame: info.maxFrame, features },
    checks,
    passed: checks.length - failed,
    failed,
  };
}
