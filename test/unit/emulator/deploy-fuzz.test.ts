import { describe, expect, it } from 'vitest';
import { fuzzDevice, fuzzFrameDecoder } from '../../support/deploy-fuzz.js';

describe('fuzz: the deploy protocol (issue 15)', () => {
  it('frame decoder: 3,000 mutated and noisy streams, cut at random, give the same CRC-checked frames (seed 15)', () => {
    const s = fuzzFrameDecoder(3000, 15);
    expect(s.cases).toBe(3000);
    expect(s.frames).toBeGreaterThan(1000);
    expect(s.dropped).toBeGreaterThan(500);
  });

  it('device handlers: 2,000 valid and mutated messages from two hosts; the device always answers STATUS, errors are coded (seed 15)', async () => {
    const s = await fuzzDevice(2000, 15);
    expect(s.cases).toBe(2000);
    expect(Object.keys(s.errors).sort()).toEqual(expect.arrayContaining(['PROTOCOL', 'REFUSED']));
    expect(s.replies['11']).toBeGreaterThan(0); // READY
    expect(s.replies['13']).toBeGreaterThan(0); // ACK
  }, 60_000);
});
