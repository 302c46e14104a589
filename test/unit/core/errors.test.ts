import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_TABLE, FlightDeckError, isErrorCode, toFlightDeckError } from '../../../core/errors.js';
import { ERRORS_DOC, EXIT_FAMILIES, renderErrorsDoc } from '../../../scripts/errors-doc.js';

describe('error table', () => {
  it('gives every code an exit status from a documented family, a title and a hint', () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_TABLE[code];
      expect(EXIT_FAMILIES, code).toContain(spec.exit);
      expect(spec.exit, code).not.toBe(0);
      expect(spec.title.length, code).toBeGreaterThan(3);
      expect(spec.hint.length, code).toBeGreaterThan(10);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it('is listed in docs/errors.md exactly as generated (run `npm run docs:errors` after editing)', () => {
    const doc = readFileSync(ERRORS_DOC, 'utf8');
    expect(doc).toBe(renderErrorsDoc());
    for (const code of ERROR_CODES) expect(doc).toContain(`| \`${code}\` | ${ERROR_TABLE[code].exit} |`);
  });
});

describe('FlightDeckError', () => {
  it('carries code, message, default hint and exit code, and serialises without a stack', () => {
    const err = new FlightDeckError('DIGEST_INVALID', 'sha256:zz is not a digest', { cause: new Error('inner') });
    expect(err.code).toBe('DIGEST_INVALID');
    expect(err.hint).toBe(ERROR_TABLE.DIGEST_INVALID.hint);
    expect(err.exitCode).toBe(3);
    const json = JSON.parse(JSON.stringify(err));
    expect(json).toEqual({ code: 'DIGEST_INVALID', message: 'sha256:zz is not a digest', hint: ERROR_TABLE.DIGEST_INVALID.hint });
    expect(JSON.stringify(err)).not.toContain('inner');
  });

  it('accepts an explicit hint and details', () => {
    const err = new FlightDeckError('NOT_FOUND', 'no tag x', { hint: 'try y', details: { tag: 'x' } });
    expect(err.toJSON()).toEqual({ code: 'NOT_FOUND', message: 'no tag x', hint: 'try y', details: { tag: 'x' } });
  });

  it('wraps unknown throwables as INTERNAL and aborts as ABORTED', () => {
    expect(toFlightDeckError(new TypeError('boom')).code).toBe('INTERNAL');
    expect(toFlightDeckError('text').message).toContain('text');
    const abort = new DOMException('stop', 'AbortError');
    expect(toFlightDeckError(abort).code).toBe('ABORTED');
    const same = new FlightDeckError('USAGE', 'x');
    expect(toFlightDeckError(same)).toBe(same);
  });

  it('recognises codes', () => {
    expect(isErrorCode('WASM_MALFORMED')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});
