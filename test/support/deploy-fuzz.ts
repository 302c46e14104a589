/**
 * Fuzzing of the deploy protocol beyond the WASM parser (issue 15), shared by the unit test (a few
 * thousand cases) and bench/deploy-fuzz.ts (100,000): the frame decoder, and the device's message handlers.
 * Properties: nothing throws out, nothing hangs (the device answers STATUS after every case), what the
 * decoder returns is CRC-checked and the same however the stream is chunked, memory stays bounded, and
 * every refusal is a coded ERROR.
 */
import { deflateRawSync } from 'node:zlib';
import { encodeFrame, FrameDecoder, type Frame } from '../../core/deploy/framing.js';
import { FrameLink } from '../../core/deploy/link.js';
import { sha256 } from '../../core/deploy/payload.js';
import { encodeData, ErrorSchema, json, Msg, parseBody, StateSchema } from '../../core/deploy/protocol.js';
import { inProcessDevice } from './device.js';
import { mutate, rng } from './fuzz.js';

export interface FuzzStats {
  cases: number;
  frames: number;
  dropped: number;
  errors: Record<string, number>;
  replies: Record<string, number>;
}

const MAX_FRAME = 4096;

/** Frame decoder: mutated streams of valid frames, cut at random points, plus raw noise. */
export function fuzzFrameDecoder(cases: number, seed: number): FuzzStats {
  const random = rng(seed);
  const stats: FuzzStats = { cases: 0, frames: 0, dropped: 0, errors: {}, replies: {} };
  const byte = () => Math.floor(random() * 256);
  for (let i = 0; i < cases; i++) {
    const count = 1 + Math.floor(random() * 4);
    let fitting = 0;
    const frames = Array.from({ length: count }, () => {
      const body = Buffer.allocUnsafe(Math.floor(random() * (random() < 0.05 ? 6000 : 64)));
      for (let b = 0; b < body.length; b++) body[b] = random() < 0.2 ? 0xc0 : random() < 0.2 ? 0xdb : byte();
      const frame = encodeFrame(byte(), body);
      if (frame.length <= MAX_FRAME) fitting++; // maxFrame counts wire bytes, escaping and delimiters included
      return frame;
    });
    let stream: Uint8Array = Buffer.concat(frames);
    if (i % 3 !== 0) stream = stream.length > 2048 ? Buffer.concat([mutate(stream.subarray(0, 1024), random), stream.subarray(1024)]) : mutate(stream, random);
    if (i % 3 !== 0 && i % 17 === 1) {
      stream = Buffer.allocUnsafe(Math.floor(random() * 2000));
      for (let b = 0; b < stream.length; b++) stream[b] = byte();
    }
    // The same stream in one piece and cut at random points must give the same frames.
    const whole = new FrameDecoder(MAX_FRAME).push(stream);
    const decoder = new FrameDecoder(MAX_FRAME);
    const pieces: Frame[] = [];
    for (let at = 0; at < stream.length;) {
      const n = 1 + Math.floor(random() * 64);
      pieces.push(...decoder.push(stream.subarray(at, at + n)));
      at += n;
    }
    if (pieces.length !== whole.length || pieces.some((f, k) => f.type !== whole[k]!.type || !f.body.equals(whole[k]!.body))) {
      throw new Error(`frame decoder case ${i} (seed ${seed}): chunking changed the frames`);
    }
    for (const f of pieces) {
      const wire = encodeFrame(f.type, f.body).length;
      if (wire > MAX_FRAME) throw new Error(`frame decoder case ${i}: a frame of ${wire} wire bytes passed a ${MAX_FRAME}-byte limit`);
      // Every frame that comes out is one that went in (a CRC-32 collision aside): re-encoding it gives a frame of the stream.
      if (i % 3 === 0 && !frames.some((g) => g.equals(encodeFrame(f.type, f.body))))
        throw new Error(`frame decoder case ${i}: a frame that was never sent came out`);
    }
    if (i % 3 === 0 && pieces.length !== fitting)
      throw new Error(`frame decoder case ${i}: ${fitting} intact frames within the limit in, ${pieces.length} out`);
    stats.cases++;
    stats.frames += pieces.length;
    stats.dropped += decoder.dropped;
  }
  return stats;
}

/** Valid messages a host sends, as seeds for mutation (RUN is left out: it starts a process). */
function seeds(random: () => number): Array<{ type: number; body: Buffer }> {
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
  const sha = sha256(payload);
  const other = sha256(Buffer.from('other'));
  const id = '0123456789abcdef0123456789abcdef';
  const begin = (extra: object) => json({ sha256: sha, size: payload.length, blockSize: 1024, compression: 'deflate', fresh: false, ...extra });
  const bomb = deflateRawSync(Buffer.alloc(1 << 20));
  const bombData = Buffer.alloc(9 + bomb.length);
  bombData.writeUInt32LE(0, 0);
  bombData.writeUInt32LE(1 << 20, 4);
  bombData[8] = 1;
  bomb.copy(bombData, 9);
  return [
    { type: Msg.HELLO, body: json({ version: 1 }) },
    { type: Msg.STATUS, body: json({}) },
    { type: Msg.BEGIN, body: begin({}) },
    { type: Msg.BEGIN, body: begin({ fresh: true }) },
    { type: Msg.BEGIN, body: begin({ delta: { base: other, blocks: [0, 2] } }) },
    { type: Msg.DATA, body: encodeData(0, payload.subarray(0, 1024), 'deflate') },
    { type: Msg.DATA, body: encodeData(1024, payload.subarray(1024, 2048), 'br') },
    { type: Msg.DATA, body: encodeData(2048, payload.subarray(2048), 'none') },
    { type: Msg.DATA, body: bombData },
    { type: Msg.END, body: json({}) },
    { type: Msg.COMMIT, body: json({ sha256: sha, upload: id }) },
    { type: Msg.ROLLBACK, body: json({}) },
    { type: Msg.HASHES, body: json({ blockSize: 512 + Math.floor(random() * 4096) }) },
    { type: Msg.MONITOR, body: json({ follow: false }) },
    { type: Msg.SET_RATE, body: json({ baud: 115200 }) },
    { type: 0x55, body: json({}) },
  ];
}

/**
 * Device message handlers: random valid and mutated messages from two hosts into one in-process Device;
 * after each case the device must answer STATUS with a well-formed STATE, and every ERROR must be coded.
 */
export async function fuzzDevice(cases: number, seed: number, opts: { onCase?: (i: number) => void } = {}): Promise<FuzzStats> {
  const random = rng(seed);
  const d = inProcessDevice({ checkpointBytes: 1 << 30 });
  const stats: FuzzStats = { cases: 0, frames: 0, dropped: 0, errors: {}, replies: {} };
  const pool = seeds(random);
  const open = () => {
    const c = d.connect();
    return { link: new FrameLink(c.transport, 1 << 20), served: c.served };
  };
  const hosts = [open(), open()];
  const failures: unknown[] = [];
  for (const h of hosts) h.served.catch((e: unknown) => failures.push(e));
  const heapStart = process.memoryUsage().heapUsed;
  for (let i = 0; i < cases; i++) {
    const k = Math.floor(random() * hosts.length);
    // Now and then a host goes away mid-whatever and a new one connects.
    if (random() < 0.002) {
      await hosts[k]!.link.close();
      await hosts[k]!.served;
      hosts[k] = open();
      hosts[k]!.served.catch((e: unknown) => failures.push(e));
    }
    const h = hosts[k]!;
    const seedMsg = pool[Math.floor(random() * pool.length)]!;
    let type = seedMsg.type;
    let body: Uint8Array = seedMsg.body;
    const r = random();
    if (r < 0.5) body = mutate(body, random);
    else if (r < 0.55) type = Math.floor(random() * 256);
    if (type === Msg.RUN || type === Msg.MONITOR) type = Msg.STATUS; // RUN spawns a process; MONITOR with follow streams forever
    await h.link.send(type, body);
    await h.link.send(Msg.STATUS, json({}));
    // Read until STATE: every frame on the way must be a known reply; an ERROR must be coded.
    for (;;) {
      const f = await h.link.nextOrTimeout(10_000);
      if (!f) throw new Error(`device fuzz case ${i} (seed ${seed}): no STATE within 10 s after ${type.toString(16)} (hang)`);
      const name = f.type.toString(16);
      stats.replies[name] = (stats.replies[name] ?? 0) + 1;
      stats.frames++;
      if (f.type === Msg.ERROR) {
        const e = parseBody(ErrorSchema, f.body);
        if (!e) throw new Error(`device fuzz case ${i}: an ERROR without a code: ${f.body.toString('utf8').slice(0, 200)}`);
        stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1;
      }
      if (f.type === Msg.STATE) {
        if (!parseBody(StateSchema, f.body)) throw new Error(`device fuzz case ${i}: a malformed STATE`);
        break;
      }
    }
    if (failures.length) throw new Error(`device fuzz case ${i}: the device's serve loop threw: ${String(failures[0])}`);
    opts.onCase?.(i);
    stats.cases++;
  }
  const grown = process.memoryUsage().heapUsed - heapStart;
  for (const h of hosts) await h.link.close();
  await Promise.all(hosts.map((h) => h.served));
  d.device.shutdown();
  if (failures.length) throw new Error(`the device's serve loop threw: ${String(failures[0])}`);
  if (grown > 256 << 20) throw new Error(`device fuzz: the heap grew by ${grown} bytes over ${cases} cases`);
  return stats;
}
