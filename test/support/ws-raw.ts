/**
 * Raw WebSocket traffic for tests of the web host: handshake requests and client frames built byte by
 * byte (so they can be wrong on purpose), one-shot exchanges over a plain TCP socket, and a reader of
 * what the host answered (status line, then its frames). Also the WebSocket fuzz shared by the unit test
 * (a few thousand cases) and bench/ws-fuzz.ts (100,000).
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { mutate, rng } from './fuzz.js';

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** An upgrade request; every part can be replaced. */
export function handshakeRequest(o: {
  port: number;
  token: string;
  path?: string;
  origin?: string;
  host?: string;
  method?: string;
  protocols?: string;
  extra?: string;
}): string {
  return (
    `${o.method ?? 'GET'} ${o.path ?? '/api/ws'} HTTP/1.1\r\nHost: ${o.host ?? `127.0.0.1:${o.port}`}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Protocol: ${o.protocols ?? `flightdeck.v1, flightdeck.token.${o.token}`}\r\n` +
    (o.origin ? `Origin: ${o.origin}\r\n` : '') +
    (o.extra ?? '') +
    '\r\n'
  );
}

/** A client frame: masked unless told otherwise; RSV bits and FIN as given. */
export function clientFrame(opcode: number, payload: Buffer | string, o: { fin?: boolean; rsv?: number; masked?: boolean; mask?: Buffer } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const masked = o.masked ?? true;
  const len = body.length;
  const head = Buffer.alloc(2 + (len < 126 ? 0 : len < 65536 ? 2 : 8));
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f);
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!masked) return Buffer.concat([head, body]);
  head[1] = head[1]! | 0x80;
  const mask = o.mask ?? Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const out = Buffer.from(body);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, out]);
}

export function closeFrame(code: number, reason = ''): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return clientFrame(0x8, body);
}

/**
 * Connect, send `bytes`, half-close (unless `end: false`), and collect everything the host sends until it
 * closes the connection or `until` arrived. Resolves on the socket's close event: no timer decides when
 * the host is done.
 */
export function exchange(port: number, bytes: Buffer | string, o: { localAddress?: string; end?: boolean; until?: string } = {}): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: '127.0.0.1', ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      // Enough read (e.g. the end of the response head): hang up ourselves.
      if (o.until !== undefined && Buffer.concat(chunks).includes(o.until)) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.write(bytes);
    if (o.end ?? true) s.end();
  });
}

export interface HostAnswer {
  /** HTTP status of the answer, 0 when the host closed without one. */
  status: number;
  frames: Array<{ opcode: number; fin: boolean; masked: boolean; payload: Buffer }>;
  /** Close code of the host's close frame, if it sent one (1005 when the frame had no code). */
  closeCode?: number;
  /** Bytes after the last whole frame (the host cut a frame short: never expected). */
  trailing: number;
}

/** Read the host's answer: the status line and, after a 101, the frames it sent. */
export function readAnswer(buf: Buffer): HostAnswer {
  const headEnd = buf.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(buf.subarray(0, Math.max(0, headEnd)).toString('latin1'))?.[1];
  const answer: HostAnswer = { status: status ? Number(status) : 0, frames: [], trailing: 0 };
  if (answer.status !== 101) return answer;
  let rest = buf.subarray(headEnd + 4);
  while (rest.length >= 2) {
    let len = rest[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      if (rest.length < 4) break;
      len = rest.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (rest.length < 10) break;
      len = Number(rest.readBigUInt64BE(2));
      off = 10;
    }
    const masked = (rest[1]! & 0x80) !== 0;
    if (masked) off += 4;
    if (rest.length < off + len) break;
    const frame = { opcode: rest[0]! & 0x0f, fin: (rest[0]! & 0x80) !== 0, masked, payload: rest.subarray(off, off + len) };
    answer.frames.push(frame);
    if (frame.opcode === 0x8) answer.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
    rest = rest.subarray(off + len);
  }
  answer.trailing = rest.length;
  return answer;
}

/** What a host may answer before a handshake completes. */
export const HANDSHAKE_STATUSES = new Set([0, 101, 400, 401, 403, 404, 405, 421, 431]);
/**
 * Close codes the host may send: the ones it uses itself (RFC 6455 §7.4.1), 1005 for a close frame
 * without a code, and any valid code a client sent, which the closing handshake echoes (1000-1003,
 * 1007-1014, 3000-4999; never 1004-1006, 1015 or codes outside those ranges).
 */
export function validHostCloseCode(code: number): boolean {
  return code === 1005 || (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
}

/** Seeds of the frame fuzz: the frames a real page sends, and the edges of the protocol. */
function frameSeeds(): Buffer[] {
  const call = (id: number, method = 'app.version', input: unknown = {}) => JSON.stringify({ t: 'call', id, method, input });
  const text = call(1);
  return [
    clientFrame(0x1, text),
    Buffer.concat([clientFrame(0x1, text.slice(0, 9), { fin: false }), clientFrame(0x0, text.slice(9, 20), { fin: false }), clientFrame(0x0, text.slice(20))]),
    Buffer.concat([clientFrame(0x1, call(2, 'no.such')), clientFrame(0x1, JSON.stringify({ t: 'cancel', id: 2 }))]),
    Buffer.concat([clientFrame(0x9, 'ping'), clientFrame(0xa, 'pong'), clientFrame(0x1, call(3))]),
    // Input the contract refuses (app.version takes none): a 16-bit length, and no handler runs. (A call
    // that does run, like doctor.run, would spawn probes and look up names on every mutated copy.)
    clientFrame(0x1, call(4, 'app.version', { pad: 'x'.repeat(200) })),
    Buffer.concat([clientFrame(0x1, call(5)), closeFrame(1000, 'bye')]),
    clientFrame(0x2, Buffer.from([0, 1, 2, 3])),
    clientFrame(0x1, 'x'.repeat(300)),
  ];
}

export interface FuzzCase {
  /** true: the handshake itself is mutated (before auth); false: a valid handshake, then mutated frames. */
  preAuth: boolean;
  bytes: Buffer;
}

/** A deterministic stream of cases: 1 in 4 mutates the handshake, the rest the frames after a good one. */
export function fuzzCases(seed: number, port: number, token: string): () => FuzzCase {
  const random = rng(seed);
  const seeds = frameSeeds();
  const good = Buffer.from(handshakeRequest({ port, token, origin: `http://127.0.0.1:${port}` }));
  return () => {
    const frames = seeds[Math.floor(random() * seeds.length)]!;
    const pick = random();
    if (pick < 0.25) return { preAuth: true, bytes: Buffer.from(mutate(Buffer.concat([good, frames]), random)) };
    if (pick < 0.3) {
      // Pure noise after the handshake.
      const noise = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      return { preAuth: false, bytes: Buffer.concat([good, noise]) };
    }
    return { preAuth: false, bytes: Buffer.concat([good, Buffer.from(mutate(frames, random))]) };
  };
}

export interface FuzzTally {
  cases: number;
  statuses: Record<string, number>;
  closeCodes: Record<string, number>;
  /** Cases where the host answered something outside the allowed statuses/close codes. */
  bad: Array<{ index: number; bytes: string; answer: string }>;
}

/**
 * Run `n` cases against a web host on `port`, `parallel` connections at a time. A case ends when the host
 * closes the connection (the client half-closes after sending).
 */
export async function runWsFuzz(o: {
  port: number;
  token: string;
  seed: number;
  n: number;
  parallel?: number;
  /** Spread the client ends over these loopback addresses (100,000 connections outrun one address's ports). */
  localAddresses?: string[];
  /** A watchdog for long runs: a case still open after this long is recorded as a hang. */
  hangMs?: number;
}): Promise<FuzzTally> {
  const next = fuzzCases(o.seed, o.port, o.token);
  const tally: FuzzTally = { cases: 0, statuses: {}, closeCodes: {}, bad: [] };
  let index = 0;
  const worker = async () => {
    while (index < o.n) {
      const i = index++;
      const c = next();
      const localAddress = o.localAddresses?.[i % o.localAddresses.length];
      const done = exchange(o.port, c.bytes, localAddress ? { localAddress } : {});
      const watchdog = new AbortController();
      const raw =
        o.hangMs === undefined ? await done : await Promise.race([done, sleep(o.hangMs, undefined, { signal: watchdog.signal }).catch(() => undefined)]);
      watchdog.abort();
      if (raw === undefined) {
        tally.cases++;
        tally.bad.push({ index: i, bytes: c.bytes.toString('base64'), answer: 'hang' });
        continue;
      }
      const answer = readAnswer(raw);
      tally.cases++;
      tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
      if (answer.closeCode !== undefined) tally.closeCodes[answer.closeCode] = (tally.closeCodes[answer.closeCode] ?? 0) + 1;
      const ok =
        HANDSHAKE_STATUSES.has(answer.status) &&
        (answer.closeCode === undefined || validHostCloseCode(answer.closeCode)) &&
        answer.trailing === 0 &&
        answer.frames.every((f) => !f.masked && f.fin && [0x1, 0x8, 0x9, 0xa].includes(f.opcode));
      if (!ok)
        tally.bad.push({
          index: i,
          bytes: c.bytes.toString('base64'),
          answer: JSON.stringify({ ...answer, frames: answer.frames.map((f) => ({ ...f, payload: f.payload.toString('base64') })) }),
        });
    }
  };
  await Promise.all(Array.from({ length: o.parallel ?? 4 }, worker));
  return tally;
}
