/**
 * Differential fuzzing of the bulk HTTP/1.1 response parser (core/oci/http1.ts) against llhttp, the parser
 * node:http's client uses (reached through `_http_common`'s HTTPParser, initialised as node's client does:
 * a RESPONSE parser, default 16 KiB header cap, no lenient flags; 1xx bodies skipped as node does).
 *
 * One case is the bytes a server sends before closing the connection. Both parsers give a verdict on the
 * first final response: accepted (status, headers folded the way http1 folds them, body bytes) or refused.
 * http1 is also fed the bytes cut at random points, and must give the same verdict as when fed in one go.
 * Shared by the unit test (a few thousand cases) and bench/http1-fuzz.ts (100,000 and more).
 */
import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import { ResponseParser } from '../../core/oci/http1.js';
import { mutate } from './fuzz.js';

export { rng } from './fuzz.js';

type Random = () => number;

export type Verdict = { ok: true; status: number; headers: Record<string, string | string[]>; body: string } | { ok: false; reason: string };

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(b: Buffer): number | Error;
  finish(): Error | undefined;
  close(): void;
  [k: number]: unknown;
}
interface LlhttpCtor {
  new (): LlhttpParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: LlhttpCtor };

// http1's header folding, applied to llhttp's raw header list so both verdicts compare like for like.
const SINGLE = new Set(['content-type', 'content-length', 'location', 'content-range', 'retry-after', 'docker-content-digest', 'www-authenticate']);
function fold(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = (raw[i + 1] as string).replace(/^[ \t]+|[ \t]+$/g, '');
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (prev as string[]).push(value);
    else if (!SINGLE.has(name)) out[name] = `${prev as string}, ${value}`;
  }
  return out;
}

/** llhttp's verdict on the first final response in `bytes`, the connection closing after them. */
export function llhttpVerdict(bytes: Buffer): Verdict {
  const p = new HTTPParser();
  p.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
  let raw: string[] = [];
  let final: { status: number; headers: string[] } | undefined;
  const body: Buffer[] = [];
  let complete = false;
  p[HTTPParser.kOnHeaders] = (h: string[]) => {
    if (!final) raw.push(...h);
  };
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[] | undefined, _m: unknown, _u: unknown, status: number) => {
    if (final) return 0;
    const all = [...raw, ...(headers ?? [])];
    raw = [];
    // As node's client: informational responses (not 101) have no body; the real response follows.
    if (status >= 100 && status < 200 && status !== 101) return 1;
    final = { status, headers: all };
    return 0;
  };
  p[HTTPParser.kOnBody] = (b: Buffer) => {
    if (!complete) body.push(Buffer.from(b));
  };
  p[HTTPParser.kOnMessageComplete] = () => {
    if (final) complete = true;
  };
  try {
    const r = p.execute(bytes);
    if (r instanceof Error && !complete) return { ok: false, reason: (r as Error & { code?: string }).code ?? r.message };
    if (!complete) {
      const f = p.finish();
      if (f instanceof Error && !complete) return { ok: false, reason: (f as Error & { code?: string }).code ?? f.message };
    }
  } finally {
    p.close();
  }
  if (!complete || !final) return { ok: false, reason: 'incomplete' };
  if (final.status === 101) return { ok: false, reason: 'upgrade' };
  return { ok: true, status: final.status, headers: fold(final.headers), body: Buffer.concat(body).toString('latin1') };
}

/** http1's verdict, the bytes fed in pieces cut at `cuts` (sorted offsets), then the connection closing. */
export function http1Verdict(bytes: Buffer, cuts: number[] = []): Verdict {
  const parser = new ResponseParser('fuzz');
  let head: { status: number; headers: IncomingHttpHeaders } | undefined;
  const body: Buffer[] = [];
  let done = false;
  const sink = {
    head: (status: number, headers: IncomingHttpHeaders) => {
      head = { status, headers };
    },
    body: (slice: Buffer) => {
      body.push(Buffer.from(slice));
      return true;
    },
    done: () => {
      done = true;
    },
  };
  try {
    let from = 0;
    for (const at of [...cuts, bytes.length]) {
      if (at <= from) continue;
      parser.feed(bytes.subarray(from, at), false, sink);
      from = at;
      if (done) break;
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message.replace(/^fuzz sent a malformed HTTP response: /, '') };
  }
  if (!done && !parser.closeDelimited()) return { ok: false, reason: 'incomplete' };
  if (!head) return { ok: false, reason: 'incomplete' };
  return { ok: true, status: head.status, headers: head.headers as Record<string, string | string[]>, body: Buffer.concat(body).toString('latin1') };
}

// ---- generation ------------------------------------------------------------------------------------

const pick = <T>(random: Random, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const int = (random: Random, n: number) => Math.floor(random() * n);

const NAMES = ['content-type', 'docker-content-digest', 'etag', 'x-request-id', 'cache-control', 'set-cookie', 'link', 'x-a', 'Server', 'Date', 'warning'];
const VALUE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_.:/;=,"() ';
const STATUSES = [200, 200, 200, 206, 204, 304, 302, 404, 500, 401];

function value(random: Random): string {
  let v = '';
  for (let i = int(random, 24); i > 0; i--) v += pick(random, [...VALUE_CHARS]);
  return v.trim();
}

function bodyBytes(random: Random): Buffer {
  const n = pick(random, [0, 1, 5, 16, 100, int(random, 3000)]);
  return Buffer.from(Array.from({ length: n }, () => int(random, 256)));
}

/** A valid response (possibly after 1xx ones): Content-Length, chunked (extensions, trailers) or close-delimited. */
export function validResponse(random: Random): Buffer {
  const parts: Buffer[] = [];
  for (let i = pick(random, [0, 0, 0, 1, 2]); i > 0; i--) {
    parts.push(
      Buffer.from(
        `HTTP/1.1 ${pick(random, [100, 103])} ${pick(random, ['Continue', 'Early Hints', ''])}\r\n${random() < 0.5 ? 'link: </a>; rel=preload\r\n' : ''}\r\n`,
      ),
    );
  }
  const status = pick(random, STATUSES);
  const version = random() < 0.9 ? '1.1' : '1.0';
  const lines = [`HTTP/${version} ${status} ${pick(random, ['OK', 'Whatever', 'Partial Content', ''])}`.trimEnd()];
  for (let i = int(random, 6); i > 0; i--) lines.push(`${pick(random, NAMES)}: ${value(random)}`);
  const body = bodyBytes(random);
  const framing = status === 204 || status === 304 ? 'none' : pick(random, ['length', 'length', 'chunked', 'chunked', 'close']);
  if (random() < 0.3) lines.push(pick(random, ['connection: close', 'connection: keep-alive', 'Connection: Keep-Alive, foo']));
  let payload: Buffer = Buffer.alloc(0);
  if (framing === 'length') {
    lines.push(`content-length: ${body.length}`);
    payload = body;
  } else if (framing === 'chunked') {
    lines.push(pick(random, ['transfer-encoding: chunked', 'Transfer-Encoding: chunked', 'transfer-encoding: gzip, chunked']));
    const chunks: Buffer[] = [];
    let off = 0;
    while (off < body.length) {
      const size = Math.min(body.length - off, 1 + int(random, 700));
      const ext = pick(random, ['', '', ';a=b', ';x', ';name="quoted value"', ';y=1;z']);
      const hex = size.toString(16);
      chunks.push(Buffer.from(`${random() < 0.2 ? hex.toUpperCase() : hex}${ext}\r\n`), body.subarray(off, off + size), Buffer.from('\r\n'));
      off += size;
    }
    const trailers = random() < 0.4 ? Array.from({ length: 1 + int(random, 3) }, () => `x-trailer-${int(random, 9)}: ${value(random)}\r\n`).join('') : '';
    chunks.push(Buffer.from(`0${pick(random, ['', ';last'])}\r\n${trailers}\r\n`));
    payload = Buffer.concat(chunks);
  } else if (framing === 'close') {
    payload = body;
  }
  parts.push(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload);
  // Sometimes a second response follows on the kept-alive connection (only the first is compared).
  if (random() < 0.1 && framing !== 'close') parts.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
  return Buffer.concat(parts);
}

/** HTTP-aware edits on top of byte mutation: line endings, framing headers, chunk sizes, whitespace. */
const EDITS: Array<[RegExp | string, string]> = [
  ['\r\n', '\n'],
  ['\r\n', '\r'],
  ['\r\n', '\r\n '],
  [': ', ' : '],
  [': ', ':'],
  [':', ''],
  ['content-length: ', 'content-length: +'],
  ['content-length: ', 'content-length: -'],
  ['content-length: ', 'content-length:  1'],
  ['content-length: ', 'content-length: 99999999999999999999'],
  ['\r\n\r\n', '\r\ncontent-length: 3\r\n\r\n'],
  ['\r\n\r\n', '\r\ncontent-length: 0\r\ncontent-length: 0\r\n\r\n'],
  ['\r\n\r\n', '\r\ntransfer-encoding: chunked\r\n\r\n'],
  ['\r\n\r\n', '\r\ntransfer-encoding: identity\r\n\r\n'],
  ['\r\n\r\n', '\r\nx-bad\u0000: 1\r\n\r\n'],
  ['\r\n\r\n', '\r\nx-ctl: a\u0001b\r\n\r\n'],
  ['\r\n\r\n', '\r\nx-high: \u00e9t\u00e9\r\n\r\n'],
  ['\r\n\r\n', '\r\n folded\r\n\r\n'],
  ['chunked', 'chunked, gzip'],
  ['chunked', 'Chunked'],
  ['chunked', 'xchunked'],
  ['HTTP/1.1', 'HTTP/1.2'],
  ['HTTP/1.1', 'HTTP/2.0'],
  ['HTTP/1.1', 'http/1.1'],
  ['HTTP/1.1 ', 'HTTP/1.1  '],
  [/ (\d\d\d)/, ' 0$1'],
  [/ (\d)\d\d/, ' $1'],
  [/ \d\d\d/, ' 999'],
  [/ \d\d\d/, ' 101'],
  [/\n([0-9a-f]+)(;|\r)/, '\n$1 $2'],
  [/\n([0-9a-f]+)(;|\r)/, '\n0x$1$2'],
  [/\n([0-9a-f]+)(;|\r)/, '\n-$1$2'],
  [/\n([0-9a-f]+)(;|\r)/, '\nfffffffffffffffff$2'],
  [/\n0(;|\r)/, '\n00$1'],
  [';a=b', ';a=b\u0001'],
  [';a=b', '; a = b'],
  ['x-trailer', 'content-length'],
];

function edit(bytes: Buffer, random: Random): Buffer {
  const text = bytes.toString('latin1');
  const [from, to] = pick(random, EDITS);
  if (typeof from === 'string') {
    const hits: number[] = [];
    for (let i = text.indexOf(from); i >= 0 && hits.length < 64; i = text.indexOf(from, i + 1)) hits.push(i);
    if (hits.length === 0) return bytes;
    const at = pick(random, hits);
    return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
  }
  return Buffer.from(text.replace(from, to), 'latin1');
}

/** A case: a valid response, then (mostly) HTTP-aware edits and/or byte mutations. */
export function fuzzCase(random: Random): Buffer {
  let b = validResponse(random);
  const r = random();
  if (r < 0.15) return b;
  if (r < 0.65) {
    for (let i = 1 + int(random, 2); i > 0; i--) b = edit(b, random);
    return b;
  }
  if (r < 0.85) return Buffer.from(mutate(b, random));
  return Buffer.from(mutate(edit(b, random), random));
}

/** Random cut points for feeding in pieces. */
export function cutsFor(length: number, random: Random): number[] {
  const n = int(random, 6);
  return Array.from({ length: n }, () => int(random, length + 1)).sort((a, b) => a - b);
}

export type Outcome = 'agree' | 'http1-stricter' | 'http1-laxer' | 'differ' | 'split-inconsistent';

/**
 * Compare the two verdicts. `http1-stricter` (http1 refuses what llhttp accepts) is intended where the
 * reason is a documented one (KNOWN_STRICTER); `http1-laxer` and `differ` are bugs.
 */
export function compare(bytes: Buffer, random: Random): { outcome: Outcome; http1: Verdict; llhttp: Verdict } {
  const http1 = http1Verdict(bytes);
  const split = http1Verdict(bytes, cutsFor(bytes.length, random));
  const llhttp = llhttpVerdict(bytes);
  if (JSON.stringify(split) !== JSON.stringify(http1)) return { outcome: 'split-inconsistent', http1: split, llhttp: http1 };
  if (http1.ok && llhttp.ok) return { outcome: JSON.stringify(http1) === JSON.stringify(llhttp) ? 'agree' : 'differ', http1, llhttp };
  if (!http1.ok && !llhttp.ok) return { outcome: 'agree', http1, llhttp };
  return { outcome: http1.ok ? 'http1-laxer' : 'http1-stricter', http1, llhttp };
}

export interface FuzzStats {
  cases: number;
  ms: number;
  outcomes: Record<Outcome, number>;
  accepted: number;
  /** http1-stricter cases by http1's reason (first 40 characters). */
  stricter: Record<string, number>;
  /** Examples of anything that is not agreement or a known stricter case. */
  findings: Array<{ outcome: Outcome; bytes: string; http1: Verdict; llhttp: Verdict }>;
}

/**
 * Known, intended divergences where http1 refuses what llhttp accepts: http1 is a client for registries
 * and refuses anything unusual rather than guessing. Each is a prefix of http1's reason.
 */
export const KNOWN_STRICTER: Array<[RegExp, string]> = [
  [/^status line/, 'status codes outside 100..999 with a first digit 1..9, and versions other than HTTP/1.0 and 1.1'],
  [/^unsupported Transfer-Encoding/, 'a Transfer-Encoding other than one ending in chunked (llhttp reads such a body to the close)'],
  [/^header line/, 'a header name with characters outside the token set, or an empty name'],
  [/^Content-Length/, 'a Content-Length that is not plain digits'],
  [/^conflicting Content-Length|^a repeated Content-Length/, 'more than one Content-Length header'],
  [/^both Transfer-Encoding and Content-Length/, 'Transfer-Encoding beside Content-Length'],
  [/^an unrequested protocol switch/, '101 Switching Protocols (llhttp reports it as an upgrade)'],
];

export function runFuzz(cases: number, seed: number, rngOf: (seed: number) => Random, keep = 20): FuzzStats {
  const random = rngOf(seed);
  const stats: FuzzStats = {
    cases,
    ms: 0,
    outcomes: { agree: 0, 'http1-stricter': 0, 'http1-laxer': 0, differ: 0, 'split-inconsistent': 0 },
    accepted: 0,
    stricter: {},
    findings: [],
  };
  const started = performance.now();
  for (let i = 0; i < cases; i++) {
    const bytes = fuzzCase(random);
    const r = compare(bytes, random);
    let outcome = r.outcome;
    if (r.http1.ok) stats.accepted++;
    if (outcome === 'http1-stricter' && !r.http1.ok) {
      const reason = r.http1.reason;
      stats.stricter[reason.slice(0, 40)] = (stats.stricter[reason.slice(0, 40)] ?? 0) + 1;
      if (!KNOWN_STRICTER.some(([re]) => re.test(reason))) outcome = 'differ';
    }
    stats.outcomes[r.outcome]++;
    if (outcome !== 'agree' && outcome !== 'http1-stricter' && stats.findings.length < keep) {
      stats.findings.push({ outcome: r.outcome, bytes: bytes.toString('latin1').slice(0, 400), http1: r.http1, llhttp: r.llhttp });
    }
  }
  stats.ms = performance.now() - started;
  return stats;
}
