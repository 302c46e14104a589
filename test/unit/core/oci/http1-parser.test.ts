// Table-driven tests of the bulk client's HTTP/1.1 response parser (core/oci/http1-parser.ts): input bytes →
// status, headers, body and verdict, each case fed in one piece, byte by byte and cut in two at every point.
// The differential fuzz against llhttp is in http1-fuzz.test.ts; the socket side in the http1 integration test.
import { describe, expect, it } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_INTERIM, MAX_TRAILER_LINES, ResponseParser } from '../../../../core/oci/http1-parser.js';

/** How the exchange ended: a complete response (connection reusable or not), ended by the close, cut short, or refused. */
type End = 'reusable' | 'close-after' | 'close-delimited' | 'incomplete' | RegExp;

interface Case {
  name: string;
  input: string;
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string;
  end: End;
}

interface Outcome {
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  body: string;
  end: 'reusable' | 'close-after' | 'close-delimited' | 'incomplete' | { error: string };
}

/** Feed `pieces` into a fresh parser as the bulk client does, then the connection closes. */
function run(pieces: Buffer[]): Outcome {
  const parser = new ResponseParser('registry.test');
  const out: Outcome = { status: undefined, headers: undefined, body: '', end: 'incomplete' };
  let done: boolean | undefined;
  let heads = 0;
  try {
    for (const piece of pieces) {
      // Bytes after the response: the client drops the connection instead of reusing it.
      if (done !== undefined) {
        if (piece.length > 0) done = false;
        continue;
      }
      parser.feed(piece, false, {
        head: (status, headers) => {
          heads++;
          out.status = status;
          out.headers = headers;
        },
        body: (slice) => {
          out.body += slice.toString('latin1');
          return true;
        },
        done: (reusable) => {
          done = reusable;
        },
      });
    }
  } catch (err) {
    out.end = { error: (err as Error).message };
    return out;
  }
  expect(heads).toBeLessThanOrEqual(1);
  if (done !== undefined) out.end = done ? 'reusable' : 'close-after';
  else if (parser.closeDelimited()) out.end = 'close-delimited';
  return out;
}

function splits(bytes: Buffer): Array<[string, Buffer[]]> {
  const ways: Array<[string, Buffer[]]> = [['whole', [bytes]]];
  ways.push(['byte by byte', [...bytes].map((b) => Buffer.from([b]))]);
  for (let cut = 1; cut < bytes.length; cut++) ways.push([`cut at ${cut}`, [bytes.subarray(0, cut), bytes.subarray(cut)]]);
  return ways;
}

const CHUNKED = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';

const CASES: Case[] = [
  // Framing
  {
    name: 'Content-Length body',
    input: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello',
    status: 200,
    headers: { 'content-length': '5' },
    body: 'hello',
    end: 'reusable',
  },
  { name: 'Content-Length 0', input: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', status: 200, body: '', end: 'reusable' },
  { name: 'Content-Length body cut short', input: 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello', status: 200, body: 'hello', end: 'incomplete' },
  { name: 'bytes after a Content-Length body', input: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA', status: 200, body: 'ok', end: 'close-after' },
  {
    name: 'close-delimited body (no framing header)',
    input: 'HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nuntil close',
    status: 200,
    body: 'until close',
    end: 'close-delimited',
  },
  { name: 'HTTP/1.0 is not kept alive', input: 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok', status: 200, body: 'ok', end: 'close-after' },
  { name: 'HTTP/1.0 keep-alive', input: 'HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok', status: 200, body: 'ok', end: 'reusable' },
  { name: 'Connection: close', input: 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok', status: 200, body: 'ok', end: 'close-after' },
  { name: '204 has no body', input: 'HTTP/1.1 204 No Content\r\n\r\n', status: 204, body: '', end: 'reusable' },
  { name: '304 has no body despite Content-Length', input: 'HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n', status: 304, body: '', end: 'reusable' },
  { name: 'status line without a reason phrase', input: 'HTTP/1.1 206\r\ncontent-length: 1\r\n\r\nx', status: 206, body: 'x', end: 'reusable' },
  // Chunked
  { name: 'chunked body', input: `${CHUNKED}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`, status: 200, body: 'hello world', end: 'reusable' },
  {
    name: 'chunked, hex sizes',
    input: `${CHUNKED}A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n`,
    status: 200,
    body: '0123456789abcdefghijk',
    end: 'reusable',
  },
  { name: 'chunk extensions', input: `${CHUNKED}2;a=b;c="q \\" v"\r\nok\r\n0;last\r\n\r\n`, status: 200, body: 'ok', end: 'reusable' },
  { name: 'trailers', input: `${CHUNKED}2\r\nok\r\n0\r\nx-checksum: abc\r\nx-other: 1\r\n\r\n`, status: 200, body: 'ok', end: 'reusable' },
  {
    name: 'Transfer-Encoding gzip, chunked',
    input: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n',
    status: 200,
    body: 'z',
    end: 'reusable',
  },
  { name: 'chunked body cut short', input: `${CHUNKED}5\r\nhel`, status: 200, body: 'hel', end: 'incomplete' },
  { name: 'bytes after the last chunk', input: `${CHUNKED}2\r\nok\r\n0\r\n\r\nHTTP`, status: 200, body: 'ok', end: 'close-after' },
  { name: 'bad chunk size', input: `${CHUNKED}zz\r\nok\r\n0\r\n\r\n`, end: /chunk size "zz"/ },
  { name: 'whitespace before a chunk extension', input: `${CHUNKED}2 ;a=b\r\nok\r\n0\r\n\r\n`, end: /chunk size/ },
  { name: 'chunk size ended by a bare LF', input: `${CHUNKED}2\nok\r\n0\r\n\r\n`, end: /not ended by CRLF/ },
  { name: 'chunk data longer than its size', input: `${CHUNKED}2\r\nokX\r\n0\r\n\r\n`, end: /no CRLF after a chunk/ },
  { name: 'Content-Length in the trailers', input: `${CHUNKED}2\r\nok\r\n0\r\ncontent-length: 3\r\n\r\n`, end: /framing header in the trailers/ },
  { name: 'malformed trailer line', input: `${CHUNKED}2\r\nok\r\n0\r\nno colon here\r\n\r\n`, end: /trailer line/ },
  {
    name: 'too many trailer lines',
    input: `${CHUNKED}0\r\n${'x-t: 1\r\n'.repeat(MAX_TRAILER_LINES + 1)}\r\n`,
    end: new RegExp(`trailer section over ${MAX_TRAILER_LINES} lines`),
  },
  { name: 'unsupported Transfer-Encoding', input: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nzz', end: /unsupported Transfer-Encoding "gzip"/ },
  // Headers
  {
    name: 'header folding: names lower-cased, repeats joined, set-cookie listed, single-valued kept first',
    input:
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Type: one\r\ncontent-type: two\r\nx-pad: \t v \t\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    headers: { 'x-a': '1, 2', 'set-cookie': ['a=1', 'b=2'], 'content-type': 'one', 'x-pad': 'v', 'content-length': '0' },
    body: '',
    end: 'reusable',
  },
  {
    name: 'obs-text in a header value',
    input: 'HTTP/1.1 200 OK\r\nx-a: caf\xe9\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    headers: { 'x-a': 'caf\xe9', 'content-length': '0' },
    end: 'reusable',
  },
  { name: 'bare LF in the head', input: 'HTTP/1.1 200 OK\r\nx-a: b\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\nok', end: /header line/ },
  { name: 'bare CR in a header value', input: 'HTTP/1.1 200 OK\r\nx-a: b\rc\r\ncontent-length: 2\r\n\r\nok', end: /header line/ },
  { name: 'header line without a colon', input: 'HTTP/1.1 200 OK\r\nnocolon\r\n\r\n', end: /header line "nocolon"/ },
  { name: 'space in a header name', input: 'HTTP/1.1 200 OK\r\nx a: 1\r\n\r\n', end: /header line/ },
  { name: 'Content-Length with an NBSP', input: 'HTTP/1.1 200 OK\r\ncontent-length:\xa05\r\n\r\nhello', end: /Content-Length/ },
  { name: 'negative Content-Length', input: 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', end: /Content-Length "-1"/ },
  { name: 'conflicting Content-Length', input: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok', end: /conflicting Content-Length/ },
  { name: 'repeated Content-Length', input: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok', end: /repeated Content-Length/ },
  {
    name: 'Transfer-Encoding beside Content-Length',
    input: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n',
    end: /both Transfer-Encoding and Content-Length/,
  },
  { name: 'head over 64 KiB', input: `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, end: /headers over 64 KiB/ },
  // Status line
  { name: 'HTTP/2 status line', input: 'HTTP/2 200 OK\r\n\r\n', end: /status line "HTTP\/2 200 OK"/ },
  { name: 'status below 100', input: 'HTTP/1.1 099 X\r\n\r\n', end: /status line/ },
  { name: 'not HTTP at all', input: 'SSH-2.0-OpenSSH\r\n\r\n', end: /status line/ },
  { name: 'nothing before the close', input: '', end: 'incomplete' },
  { name: 'head cut short', input: 'HTTP/1.1 200 OK\r\ncontent-len', end: 'incomplete' },
  // Informational responses
  {
    name: '100 Continue then the response',
    input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    end: 'reusable',
  },
  {
    name: '103 Early Hints with headers then the response',
    input: 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n',
    status: 404,
    headers: { 'content-length': '0' },
    end: 'reusable',
  },
  {
    name: `${MAX_INTERIM} informational responses`,
    input: `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(MAX_INTERIM)}HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n`,
    status: 200,
    end: 'reusable',
  },
  {
    name: `${MAX_INTERIM + 1} informational responses`,
    input: 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(MAX_INTERIM + 1),
    end: new RegExp(`more than ${MAX_INTERIM} informational`),
  },
  { name: '101 Switching Protocols', input: 'HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n', end: /unrequested protocol switch/ },
  {
    name: '1xx that closes the connection',
    input: 'HTTP/1.1 100 Continue\r\nconnection: close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
    end: /informational \(1xx\) response that closes/,
  },
  { name: '1xx with bad framing headers', input: 'HTTP/1.1 100 Continue\r\ncontent-length: x\r\n\r\n', end: /Content-Length "x"/ },
];

describe('http1 response parser, table-driven', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const bytes = Buffer.from(c.input, 'latin1');
      // The long inputs (over a cap) are checked whole and byte by byte only.
      const ways = bytes.length > 2000 ? splits(bytes).slice(0, 2) : splits(bytes);
      for (const [how, pieces] of ways) {
        const out = run(pieces);
        if (c.end instanceof RegExp) {
          expect(out.end, how).toEqual({ error: expect.stringMatching(c.end) as unknown });
          expect((out.end as { error: string }).error, how).toMatch(/^registry\.test sent a malformed HTTP response: /);
          continue;
        }
        expect(out.end, how).toBe(c.end);
        expect(out.status, how).toBe(c.status);
        if (c.headers) expect(out.headers, how).toEqual(c.headers);
        expect(out.body, how).toBe(c.body ?? '');
      }
    });
  }

  it('hands body slices out as views of the fed bytes (no copy) and passes ownership through', () => {
    const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n', 'latin1');
    const chunk = Buffer.concat([head, Buffer.from('abcdefgh')]);
    const parser = new ResponseParser('registry.test');
    const slices: Array<{ slice: Buffer; noCopy: boolean }> = [];
    parser.feed(chunk, true, { head: () => {}, body: (slice, noCopy) => (slices.push({ slice, noCopy }), true), done: () => {} });
    expect(slices).toHaveLength(1);
    const [{ slice, noCopy }] = slices as [{ slice: Buffer; noCopy: boolean }];
    expect(noCopy).toBe(true);
    expect(slice.buffer).toBe(chunk.buffer);
    expect(slice.byteOffset).toBe(chunk.byteOffset + head.length);
    expect(slice.toString()).toBe('abcdefgh');
  });

  it('reports a consumer that asked to pause from feed(), and keeps parsing the rest of the chunk', () => {
    const parser = new ResponseParser('registry.test');
    let body = '';
    let done: boolean | undefined;
    const sink = { head: () => {}, body: (s: Buffer) => ((body += s.toString()), false), done: (r: boolean) => (done = r) };
    expect(parser.feed(Buffer.from(`${CHUNKED}2\r\nok\r\n3\r\nyes\r\n`), false, sink)).toBe(false);
    expect(body).toBe('okyes');
    expect(done).toBeUndefined();
    expect(parser.describe()).toBe('after 5 body bytes');
    expect(parser.feed(Buffer.from('0\r\n\r\n'), false, sink)).toBe(true);
    expect(done).toBe(true);
  });

  it('describes where a cut-short response stopped', () => {
    const parser = new ResponseParser('registry.test');
    const sink = { head: () => {}, body: () => true, done: () => {} };
    expect(parser.describe()).toBe('before a complete response');
    parser.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'), false, sink);
    expect(parser.describe()).toBe('after 3 of 10 body bytes');
  });
});
