import { describe, expect, it } from 'vitest';
import type { ByteTransport } from '../../../core/deploy/transport.js';
import { LineFaults } from '../../../emulator/faults.js';

/** A loopback transport: what the test pushes arrives as received data; writes are recorded. */
function loop() {
  const listeners = new Set<(c: Uint8Array) => void>();
  const written: Buffer[] = [];
  const t: ByteTransport & { push(b: Buffer): void; written: Buffer[] } = {
    description: 'loop',
    written,
    push: (b) => listeners.forEach((l) => l(b)),
    write: async (d) => void written.push(Buffer.from(d)),
    onData: (l) => (listeners.add(l), () => listeners.delete(l)),
    onClose: () => {},
    close: async () => {},
  };
  return t;
}

function receive(faults: LineFaults, data: Buffer, chunk: number): { got: Buffer; cuts: number } {
  const inner = loop();
  let cuts = 0;
  const wrapped = faults.wrap(inner, () => cuts++);
  const got: Buffer[] = [];
  wrapped.onData((c) => got.push(Buffer.from(c)));
  for (let i = 0; i < data.length; i += chunk) inner.push(data.subarray(i, i + chunk));
  return { got: Buffer.concat(got), cuts };
}

const data = Buffer.alloc(200_000, 0x55);

describe('line faults', () => {
  it('place drops and flips at rates close to the configured ones, at offsets fixed by the seed whatever the chunking', () => {
    const a = receive(new LineFaults({ drop: 1e-3, corrupt: 1e-3, seed: 9 }), data, 997);
    const b = receive(new LineFaults({ drop: 1e-3, corrupt: 1e-3, seed: 9 }), data, 4096);
    expect(a.got).toEqual(b.got);
    const dropped = data.length - a.got.length;
    const flipped = [...a.got].filter((x) => x !== 0x55).length;
    expect(dropped).toBeGreaterThan(120);
    expect(dropped).toBeLessThan(300);
    expect(flipped).toBeGreaterThan(120);
    expect(flipped).toBeLessThan(300);
    const other = receive(new LineFaults({ drop: 1e-3, corrupt: 1e-3, seed: 10 }), data, 997);
    expect(other.got).not.toEqual(a.got);
  });

  it('cuts the line once after N received bytes, delivering exactly the bytes before the cut', () => {
    const faults = new LineFaults({ disconnectAfter: 10_000 });
    const first = receive(faults, data, 3000);
    expect(first).toEqual({ got: data.subarray(0, 10_000), cuts: 1 });
    expect(receive(faults, data, 3000)).toEqual({ got: data, cuts: 0 }); // the next connection is clean
  });

  it('damages what the device sends too, and passes clean lines through untouched', async () => {
    const inner = loop();
    const noisy = new LineFaults({ corrupt: 0.01, seed: 2 }).wrap(inner, () => {});
    await noisy.write(data.subarray(0, 10_000));
    expect(inner.written[0]!.equals(data.subarray(0, 10_000))).toBe(false);
    expect(new LineFaults({}).wrap(inner, () => {})).toBe(inner);
  });
});
