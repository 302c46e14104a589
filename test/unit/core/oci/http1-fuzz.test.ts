// Differential fuzz of the bulk HTTP/1.1 response parser (core/oci/http1.ts) against llhttp (node:http's
// parser), deterministic seed; bench/http1-fuzz.ts runs 100,000+ cases.
import { describe, expect, it } from 'vitest';
import { KNOWN_STRICTER, compare, http1Verdict, llhttpVerdict, rng, runFuzz } from '../../../support/http1-fuzz.js';

describe('http1 response parser vs llhttp', () => {
  it('agrees with llhttp on 4,000 generated and mutated responses (seed 15), refusing only the documented shapes', () => {
    const stats = runFuzz(4000, 15, rng);
    expect(stats.findings).toEqual([]);
    expect(stats.outcomes['http1-laxer']).toBe(0);
    expect(stats.outcomes.differ).toBe(0);
    expect(stats.outcomes['split-inconsistent']).toBe(0);
    // The generator reaches both sides: plenty accepted, plenty refused.
    expect(stats.accepted).toBeGreaterThan(1000);
    expect(stats.cases - stats.accepted).toBeGreaterThan(1000);
    for (const reason of Object.keys(stats.stricter))
      expect(
        KNOWN_STRICTER.some(([re]) => re.test(reason)),
        reason,
      ).toBe(true);
  });

  // Divergences the fuzz found (each accepted by http1, refused or framed differently by llhttp), kept as cases.
  const FOUND: Array<[string, string]> = [
    ['a bare LF inside the head hides a header in a value', 'HTTP/1.1 200 OK\r\nx-a: b\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\nok'],
    ['a bare CR inside a header value', 'HTTP/1.1 200 OK\r\nx-a: b\rc\r\ncontent-length: 2\r\n\r\nok'],
    ['a control character in a header value', 'HTTP/1.1 200 OK\r\nx-a: a\x01b\r\ncontent-length: 2\r\n\r\nok'],
    ['Content-Length with an NBSP that String.trim would strip', 'HTTP/1.1 200 OK\r\ncontent-length:\xa05\r\n\r\nhello'],
    ['Transfer-Encoding beside Content-Length', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['a repeated identical Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok'],
    ['whitespace between a chunk size and its extension', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2 ;a=b\r\nok\r\n0\r\n\r\n'],
    ['a malformed chunk extension', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;name#"quoted value"\r\nok\r\n0\r\n\r\n'],
    ['a chunk size line ended by a bare LF', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n'],
    ['Content-Length in the trailers', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\ncontent-length: 3\r\n\r\n'],
    ['a control character in a trailer value', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-t: a\x18\r\n\r\n'],
    ['a malformed Content-Length on a 1xx', 'HTTP/1.1 100 Continue\r\ncontent-length: +3\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'],
    ['a malformed Content-Length on a 204', 'HTTP/1.1 204 No Content\r\ncontent-length: 99999999999999999999\r\n\r\n'],
    ['a 1xx that closes the connection', 'HTTP/1.0 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ];
  it('Transfer-Encoding with an NBSP (which \\s matches) is not taken for chunked: llhttp reads to the close, http1 refuses', () => {
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: \xa0chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'latin1');
    expect(llhttpVerdict(bytes)).toMatchObject({ ok: true, body: '2\r\nok\r\n0\r\n\r\n' });
    expect(http1Verdict(bytes)).toMatchObject({ ok: false, reason: expect.stringContaining('unsupported Transfer-Encoding') });
  });

  for (const [what, text] of FOUND) {
    it(`refuses, as llhttp does: ${what}`, () => {
      const bytes = Buffer.from(text, 'latin1');
      expect(llhttpVerdict(bytes).ok).toBe(false);
      expect(http1Verdict(bytes)).toMatchObject({ ok: false });
      expect(compare(bytes, rng(1)).outcome).toBe('agree');
    });
  }
});
