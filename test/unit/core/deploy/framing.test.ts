import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeFrame, END, ESC, FrameDecoder } from '../../../../core/deploy/framing.js';

const decodeAll = (d: FrameDecoder, bytes: Buffer, step = bytes.length) => {
  const frames = [];
  for (let i = 0; i < bytes.length; i += step) frames.push(...d.push(bytes.subarray(i, i + step)));
  return frames;
};

describe('SLIP + CRC-32 framing', () => {
  it('round-trips bodies full of END and ESC bytes, split at every chunk boundary', () => {
    const body = Buffer.from([END, ESC, 0, END, END, ESC, 0xdc, 0xdd, 1]);
    const wire = encodeFrame(0x12, body);
    expect(wire[0]).toBe(END);
    expect(wire.at(-1)).toBe(END);
    expect(wire.subarray(1, -1).includes(END)).toBe(false);
    for (let step = 1; step <= wire.length; step++) {
      const frames = decodeAll(new FrameDecoder(1024), wire, step);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.type).toBe(0x12);
      expect(frames[0]!.body).toEqual(body);
    }
  });

  it('carries the CRC-32 (IEEE) of type|body, little-endian', () => {
    const wire = encodeFrame(0x31, Buffer.from('23456789'));
    // crc32("123456789") = 0xCBF43926; type 0x31 is "1".
    expect(wire.subarray(-5, -1)).toEqual(Buffer.from([0x26, 0x39, 0xf4, 0xcb]));
  });

  it('resynchronises after garbage, drops damaged frames and counts them', () => {
    const d = new FrameDecoder(4096);
    const good = [encodeFrame(1, Buffer.from('one')), encodeFrame(2, randomBytes(500)), encodeFrame(3, Buffer.from('three'))];
    const damaged = Buffer.from(good[1]!);
    damaged[100] = damaged[100]! ^ 0x40;
    const stream = Buffer.concat([randomBytes(37).map((b) => (b === END ? 1 : b)), good[0]!, damaged, Buffer.from([ESC, 0x00, END]), good[2]!]);
    const frames = decodeAll(d, stream, 7);
    expect(frames.map((f) => f.type)).toEqual([1, 3]);
    expect(frames[1]!.body.toString()).toBe('three');
    // leading garbage, the flipped frame, the bad escape
    expect(d.dropped).toBe(3);
  });

  it('drops a frame longer than the maximum without buffering it whole', () => {
    const d = new FrameDecoder(1024);
    const frames = decodeAll(d, Buffer.concat([encodeFrame(9, randomBytes(5000)), encodeFrame(4, Buffer.from('ok'))]), 100);
    expect(frames.map((f) => f.type)).toEqual([4]);
    expect(d.dropped).toBe(1);
  });

  it('a truncated frame followed by a restart loses only itself', () => {
    const d = new FrameDecoder(4096);
    const a = encodeFrame(5, randomBytes(300));
    const frames = decodeAll(d, Buffer.concat([a.subarray(0, 120), encodeFrame(6, Buffer.from('after'))]));
    expect(frames.map((f) => f.type)).toEqual([6]);
  });
});
