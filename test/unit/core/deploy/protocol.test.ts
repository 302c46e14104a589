import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeData, encodeData, unpackBlock } from '../../../../core/deploy/protocol.js';
import { formatDeviceUri, parseDeviceUri } from '../../../../core/deploy/transport.js';
import { FlightDeckError } from '../../../../core/errors.js';

describe('DATA blocks', () => {
  const text = Buffer.from('(func (export "f") (param i32) (result i32) local.get 0)\n'.repeat(300));

  it.each(['deflate', 'br'] as const)('compress a compressible block with %s and restore it exactly', (c) => {
    const wire = encodeData(4096, text, c);
    expect(wire.length).toBeLessThan(text.length / 4);
    const block = decodeData(wire)!;
    expect(block).toMatchObject({ offset: 4096, rawLength: text.length, codec: c });
    expect(unpackBlock(block, text.length)).toEqual(text);
  });

  it('sends incompressible bytes as they are', () => {
    const raw = randomBytes(8192);
    const block = decodeData(encodeData(0, raw, 'br'))!;
    expect(block.codec).toBe('none');
    expect(unpackBlock(block, 8192)).toEqual(raw);
  });

  it('rejects a block that does not inflate to its declared length', () => {
    const wire = encodeData(0, text, 'deflate');
    wire.writeUInt32LE(text.length - 1, 4);
    expect(unpackBlock(decodeData(wire)!, 1 << 20)).toBeUndefined();
    expect(decodeData(Buffer.from([1, 2, 3]))).toBeUndefined();
  });
});

describe('DATA decompression bound (issue 15)', () => {
  // 16 MiB of zeros: a few KiB on the wire, so a 256 KiB frame could carry a bomb of gigabytes.
  const zeros = Buffer.alloc(16 << 20);
  const bombs = { deflate: deflateRawSync(zeros), br: brotliCompressSync(zeros) };
  const block = (codec: 'deflate' | 'br', rawLength: number) => ({ offset: 0, rawLength, codec, bytes: bombs[codec] });

  it.each(['deflate', 'br'] as const)('%s: a block claiming more than the limit is refused before it inflates', (codec) => {
    expect(bombs[codec].length).toBeLessThan(64 << 10);
    expect(unpackBlock(block(codec, zeros.length), 64 << 10)).toBeUndefined();
    expect(unpackBlock(block(codec, 0xffffffff), 64 << 10)).toBeUndefined();
    expect(unpackBlock(block(codec, zeros.length), zeros.length)?.equals(zeros)).toBe(true); // an honest block at the limit
  });

  it.each(['deflate', 'br'] as const)('%s: a block claiming little that inflates to a lot stops at its claim', (codec) => {
    expect(unpackBlock(block(codec, 4096), 64 << 10)).toBeUndefined();
    expect(unpackBlock({ offset: 0, rawLength: 0, codec, bytes: bombs[codec] }, 64 << 10)).toBeUndefined();
  });
});

describe('device URIs', () => {
  it.each([
    ['serial:///dev/ttyUSB0?baud=921600', { kind: 'serial', path: '/dev/ttyUSB0', baud: 921600 }],
    ['serial:///dev/pts/3', { kind: 'serial', path: '/dev/pts/3', baud: 115200 }],
    ['tcp://127.0.0.1:7000', { kind: 'tcp', host: '127.0.0.1', port: 7000 }],
    ['tcp://[::1]:7000', { kind: 'tcp', host: '::1', port: 7000 }],
    ['usb://054c:04e4', { kind: 'usb', vendorId: 0x054c, productId: 0x04e4, serial: undefined }],
    ['usb://0403:6001/FT12AB', { kind: 'usb', vendorId: 0x0403, productId: 0x6001, serial: 'FT12AB' }],
  ])('parses %s and formats it back', (text, uri) => {
    expect(parseDeviceUri(text)).toEqual(uri);
    expect(parseDeviceUri(formatDeviceUri(parseDeviceUri(text)))).toEqual(uri);
  });

  it.each([
    'ttyUSB0',
    'serial:/dev/x',
    'serial://host/dev/x',
    'serial:///dev/x?baud=fast',
    'tcp://host',
    'tcp://h:70000',
    'usb://1:2',
    'ftp://x:1',
    'tcp://127.0.0.1:0',
  ])('rejects %s with DEVICE_URI_INVALID naming it', (text) => {
    let err: unknown;
    try {
      parseDeviceUri(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlightDeckError);
    expect((err as FlightDeckError).code).toBe('DEVICE_URI_INVALID');
    expect((err as FlightDeckError).message).toContain(JSON.stringify(text));
  });

  it('accepts port 0 only for listening', () => {
    expect(parseDeviceUri('tcp://127.0.0.1:0', true)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  });
});
