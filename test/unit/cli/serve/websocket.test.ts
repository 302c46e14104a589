import { describe, expect, it } from 'vitest';
import { acceptKey, encodeFrame } from '../../../../cli/serve/websocket.js';

describe('WebSocket framing (RFC 6455)', () => {
  it('computes the handshake accept value of the RFC example', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('encodes the three payload length forms, unmasked, FIN set', () => {
    const small = encodeFrame(0x1, Buffer.from('Hello'));
    expect([...small]).toEqual([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    const mid = encodeFrame(0x1, Buffer.alloc(256));
    expect([...mid.subarray(0, 4)]).toEqual([0x81, 126, 0x01, 0x00]);
    expect(mid.length).toBe(4 + 256);
    const big = encodeFrame(0x1, Buffer.alloc(65536));
    expect(big[1]).toBe(127);
    expect(big.readBigUInt64BE(2)).toBe(65536n);
  });
});
