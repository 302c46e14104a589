/**
 * The HTTP/1.1 response parser of the bulk client (`http1.ts`): status line, headers, body framing
 * (Content-Length, chunked with extensions and trailers, close-delimited), 1xx responses skipped, and the
 * caps on head, lines, interim responses and trailers. Pure and incremental: bytes in through `feed()`,
 * events out through a `ParserSink`; no sockets, no timers, so it is tested table-driven
 * (test/unit/core/oci/http1-parser.test.ts) and fuzzed against llhttp (test/support/http1-fuzz.ts).
 * Body slices are handed to the sink as subarrays of the fed chunk, never copied.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { NetworkError } from './http-error.js';

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4096;
/** Informational (1xx) responses skipped before the final one; more is a malformed answer. */
export const MAX_INTERIM = 16;
/** Trailer section caps (lines, bytes), as for a head. */
export const MAX_TRAILER_LINES = 128;
export const MAX_TRAILER_BYTES = 64 * 1024;
/** Headers whose duplicates are dropped (as node:http does); others are joined with ", ". */
const SINGLE = new Set(['content-type', 'content-length', 'location', 'content-range', 'retry-after', 'docker-content-digest', 'www-authenticate']);
/** RFC 9112 §7.1.1 chunk extensions: `;name[=token|"quoted"]`, without the optional whitespace (as llhttp, strict). */
const CHUNK_EXT_OK =
  /^(?:;[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;
/** Header field syntax (RFC 9110 token; a value of visible characters, SP, HTAB, obs-text). Shared with the request side. */
export const HEADER_VALUE_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
export const HEADER_NAME_OK = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface ParserSink {
  head(status: number, headers: IncomingHttpHeaders): void;
  /** A body slice; `noCopy` when the slice's memory is the consumer's to keep. Returns false to pause. */
  body(slice: Buffer, noCopy: boolean): boolean;
  done(reusable: boolean): void;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'close' | 'done';

/**
 * Incremental HTTP/1.1 response parser (status line, headers, body framing). Exported for the
 * differential fuzz against llhttp (test/support/http1-fuzz.ts); BulkHttp is its only user in the app.
 */
export class ResponseParser {
  private phase: Phase = 'head';
  private head = '';
  private line = '';
  private left = 0;
  private received = 0;
  private declared: number | undefined;
  private keepAlive = true;
  private interim = 0;
  private trailerLines = 0;
  private trailerBytes = 0;
  /** The sink refused a slice during the current feed(): pause the socket after it. */
  private paused = false;

  constructor(private readonly host: string) {}

  closeDelimited(): boolean {
    return this.phase === 'close';
  }

  describe(): string {
    if (this.phase === 'head') return 'before a complete response';
    return this.declared !== undefined ? `after ${this.received} of ${this.declared} body bytes` : `after ${this.received} body bytes`;
  }

  private bad(what: string): NetworkError {
    return new NetworkError(`${this.host} sent a malformed HTTP response: ${what}`, 'EPROTO');
  }

  /** Consume `chunk`; returns false when the consumer asked to pause. */
  feed(chunk: Buffer, owned: boolean, sink: ParserSink): boolean {
    let off = 0;
    this.paused = false;
    while (off < chunk.length) {
      switch (this.phase) {
        case 'head': {
          const before = this.head.length;
          this.head += chunk.toString('latin1', off, Math.min(chunk.length, off + MAX_HEAD + 4 - before));
          const end = this.head.indexOf('\r\n\r\n', Math.max(0, before - 3));
          if (end < 0) {
            if (this.head.length > MAX_HEAD) throw this.bad('headers over 64 KiB');
            return !this.paused;
          }
          off += end + 4 - before;
          const text = this.head.slice(0, end);
          this.head = '';
          this.startBody(text, sink);
          break;
        }
        case 'length': {
          off += this.deliver(chunk, off, owned, sink);
          if (this.left === 0) {
            // Bytes after a complete body: the server sent more than it declared; do not reuse.
            this.finish(sink, off === chunk.length);
            return !this.paused;
          }
          break;
        }
        case 'close': {
          if (!sink.body(off === 0 ? chunk : chunk.subarray(off), owned)) this.paused = true;
          this.received += chunk.length - off;
          return !this.paused;
        }
        case 'chunk-size':
        case 'trailer': {
          const nl = chunk.indexOf(10, off);
          const stop = nl < 0 ? chunk.length : nl + 1;
          this.line += chunk.toString('latin1', off, stop);
          off = stop;
          if (this.line.length > MAX_LINE) throw this.bad('a chunk-size or trailer line over 4 KiB');
          if (nl < 0) break;
          // CRLF only: a bare LF is where parsers disagree about framing (as llhttp, strict).
          if (!this.line.endsWith('\r\n')) throw this.bad('a chunk-size or trailer line not ended by CRLF');
          const line = this.line.slice(0, -2);
          this.line = '';
          if (this.phase === 'trailer') {
            if (line === '') {
              this.finish(sink, off === chunk.length);
              return !this.paused;
            }
            this.trailerBytes += line.length + 2;
            if (++this.trailerLines > MAX_TRAILER_LINES || this.trailerBytes > MAX_TRAILER_BYTES) {
              throw this.bad(`a trailer section over ${MAX_TRAILER_LINES} lines or ${MAX_TRAILER_BYTES / 1024} KiB`);
            }
            // Trailers are not used, but checked like header lines.
            const colon = line.indexOf(':');
            if (colon <= 0 || !HEADER_NAME_OK.test(line.slice(0, colon)) || !HEADER_VALUE_OK.test(line.slice(colon + 1))) {
              throw this.bad(`trailer line ${JSON.stringify(line.slice(0, 60))}`);
            }
            if (/^content-length$/i.test(line.slice(0, colon))) throw this.bad(`a framing header in the trailers: ${line.slice(0, colon)}`);
            break;
          }
          // No whitespace between the size and its extensions (as llhttp, strict).
          const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line);
          if (!size || !CHUNK_EXT_OK.test(size[2] ?? '')) throw this.bad(`chunk size ${JSON.stringify(line.slice(0, 40))}`);
          this.left = parseInt(size[1] as string, 16);
          this.phase = this.left === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          off += this.deliver(chunk, off, owned, sink);
          if (this.left === 0) {
            this.phase = 'chunk-end';
            this.line = '';
          }
          break;
        }
        case 'chunk-end': {
          const nl = chunk.indexOf(10, off);
          const stop = nl < 0 ? chunk.length : nl + 1;
          this.line += chunk.toString('latin1', off, stop);
          off = stop;
          if (nl < 0) {
            if (this.line.length > 1 || (this.line.length === 1 && this.line !== '\r')) throw this.bad('no CRLF after a chunk');
            break;
          }
          if (this.line !== '\r\n') throw this.bad('no CRLF after a chunk');
          this.line = '';
          this.phase = 'chunk-size';
          break;
        }
        case 'done':
          // More bytes after the response: never reuse this connection (checked by finish()).
          return false;
      }
    }
    return !this.paused;
  }

  /** Hand up to `left` body bytes from `off` to the sink; returns how many. A refusal pauses reading. */
  private deliver(chunk: Buffer, off: number, owned: boolean, sink: ParserSink): number {
    const take = Math.min(this.left, chunk.length - off);
    if (!sink.body(chunk.subarray(off, off + take), owned)) this.paused = true;
    this.left -= take;
    this.received += take;
    return take;
  }

  private finish(sink: ParserSink, clean: boolean): void {
    this.phase = 'done';
    sink.done(this.keepAlive && clean);
  }

  private startBody(text: string, sink: ParserSink): void {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/.exec(lines[0] ?? '');
    if (!status) throw this.bad(`status line ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
    const code = Number(status[2]);
    const headers: IncomingHttpHeaders = {};
    const raw = headers as Record<string, string | string[]>;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0 || !HEADER_NAME_OK.test(line.slice(0, colon))) throw this.bad(`header line ${JSON.stringify(line.slice(0, 60))}`);
      const name = line.slice(0, colon).toLowerCase();
      // No CR, LF or other control character in a value: a bare CR/LF would hide a header inside another.
      if (!HEADER_VALUE_OK.test(line.slice(colon + 1))) throw this.bad(`header line ${JSON.stringify(line.slice(0, 60))}`);
      // Only SP and HTAB are whitespace here (String.trim would also strip NBSP, 0xA0: `Content-Length:\xa05`).
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      const prev = raw[name];
      if (prev === undefined) raw[name] = name === 'set-cookie' ? [value] : value;
      else if (name === 'set-cookie') (prev as string[]).push(value);
      else if (name === 'content-length') throw this.bad(prev === value ? 'a repeated Content-Length header' : 'conflicting Content-Length headers');
      else if (!SINGLE.has(name)) raw[name] = `${prev as string}, ${value}`;
    }
    const connection = String(headers.connection ?? '').toLowerCase();
    const keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    // Framing headers are checked on every response, 1xx and 204/304 included.
    const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
    const cl = headers['content-length'];
    if (cl !== undefined && !/^\d{1,15}$/.test(cl)) throw this.bad(`Content-Length ${JSON.stringify(cl.slice(0, 30))}`);
    // Content-Length beside Transfer-Encoding: a request-smuggling shape; refused (as llhttp, strict).
    if (te !== '' && cl !== undefined) throw this.bad('both Transfer-Encoding and Content-Length');
    if (code >= 100 && code < 200) {
      // 100 Continue, 103 Early Hints: informational; the real response follows.
      if (code === 101) throw this.bad('an unrequested protocol switch');
      if (++this.interim > MAX_INTERIM) throw this.bad(`more than ${MAX_INTERIM} informational (1xx) responses`);
      // One that ends the connection leaves no room for the real response (as llhttp).
      if (!keepAlive) throw this.bad('an informational (1xx) response that closes the connection');
      return;
    }
    this.keepAlive = keepAlive;
    sink.head(code, headers);
    if (code === 204 || code === 304) {
      this.finish(sink, true);
    } else if (te !== '') {
      if (!/(^|,)[ \t]*chunked[ \t]*$/.test(te)) throw this.bad(`unsupported Transfer-Encoding ${JSON.stringify(te)}`);
      this.phase = 'chunk-size';
    } else if (cl !== undefined) {
      this.declared = Number(cl);
      this.left = this.declared;
      this.phase = 'length';
      if (this.left === 0) this.finish(sink, true);
    } else {
      this.keepAlive = false;
      this.phase = 'close';
    }
  }
}
