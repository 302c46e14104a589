/**
 * Flight Deploy Protocol framing (docs/protocol.md): SLIP (RFC 1055) around `type:u8 | body | crc32:u32le`.
 * A frame starts and ends with END (0xC0); the decoder drops everything that does not form a frame with a
 * good CRC, so it resynchronises at the next END after line noise, a dropped byte or a mid-frame restart.
 */
import { crc32 } from 'node:zlib';

export const END = 0xc0;
export const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export interface Frame {
  type: number;
  body: Buffer;
}

/** Encode one frame: END, escaped (type, body, crc32(type|body)), END. */
export function encodeFrame(type: number, body: Uint8Array = Buffer.alloc(0)): Buffer {
  const raw = Buffer.allocUnsafe(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  raw.writeUInt32LE(crc32(raw.subarray(0, 1 + body.length)), 1 + body.length);
  return slipEscape(raw);
}

function slipEscape(raw: Buffer): Buffer {
  let specials = 0;
  for (let i = raw.indexOf(END); i !== -1; i = raw.indexOf(END, i + 1)) specials++;
  for (let i = raw.indexOf(ESC); i !== -1; i = raw.indexOf(ESC, i + 1)) specials++;
  const out = Buffer.allocUnsafe(raw.length + specials + 2);
  let o = 0;
  out[o++] = END;
  // Jump from special byte to special byte with native indexOf; copy the runs between them.
  let start = 0;
  let nextEnd = raw.indexOf(END);
  let nextEsc = raw.indexOf(ESC);
  while (nextEnd !== -1 || nextEsc !== -1) {
    const isEnd = nextEsc === -1 || (nextEnd !== -1 && nextEnd < nextEsc);
    const i = isEnd ? nextEnd : nextEsc;
    o += raw.copy(out, o, start, i);
    out[o++] = ESC;
    out[o++] = isEnd ? ESC_END : ESC_ESC;
    start = i + 1;
    if (isEnd) nextEnd = raw.indexOf(END, start);
    else nextEsc = raw.indexOf(ESC, start);
  }
  o += raw.copy(out, o, start);
  out[o] = END;
  return out;
}

/**
 * Streaming decoder: feed it chunks as they arrive, get complete, CRC-checked frames. `maxFrame` counts
 * wire bytes (docs/protocol.md, "Frame size"): the escaped frame with both 0xC0 delimiters. Longer frames,
 * and frames failing the CRC or escaping rules, are counted in `dropped` and skipped, never buffered whole.
 */
export class FrameDecoder {
  dropped = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;
  private readonly maxFrame: number;

  constructor(maxFrame: number) {
    this.maxFrame = maxFrame;
  }

  push(chunk: Uint8Array): Frame[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const frames: Frame[] = [];
    let start = 0;
    for (;;) {
      const end = buf.indexOf(END, start);
      if (end === -1) {
        this.append(buf.subarray(start));
        return frames;
      }
      this.append(buf.subarray(start, end));
      const frame = this.finish();
      if (frame) frames.push(frame);
      start = end + 1;
    }
  }

  private append(part: Buffer): void {
    if (part.length === 0 || this.overflow) return;
    // The escaped content between the two delimiters: maxFrame less those two bytes.
    if (this.size + part.length > this.maxFrame - 2) {
      this.overflow = true;
      this.parts = [];
      this.size = 0;
      return;
    }
    // Kept by reference: transports hand over fresh buffers and never reuse them.
    this.parts.push(part);
    this.size += part.length;
  }

  private finish(): Frame | undefined {
    const escaped = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const overflow = this.overflow;
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    if (overflow) {
      this.dropped++;
      return undefined;
    }
    if (escaped === undefined || escaped.length === 0) return undefined; // back-to-back ENDs: idle
    const raw = slipUnescape(escaped);
    if (!raw || raw.length < 5) {
      this.dropped++;
      return undefined;
    }
    const bodyEnd = raw.length - 4;
    if (crc32(raw.subarray(0, bodyEnd)) !== raw.readUInt32LE(bodyEnd)) {
      this.dropped++;
      return undefined;
    }
    return { type: raw[0]!, body: raw.subarray(1, bodyEnd) };
  }
}

function slipUnescape(escaped: Buffer): Buffer | undefined {
  let i = escaped.indexOf(ESC);
  if (i === -1) return escaped;
  const out = Buffer.allocUnsafe(escaped.length);
  let o = 0;
  let start = 0;
  while (i !== -1) {
    o += escaped.copy(out, o, start, i);
    const next = escaped[i + 1];
    if (next === ESC_END) out[o++] = END;
    else if (next === ESC_ESC) out[o++] = ESC;
    else return undefined;
    start = i + 2;
    i = escaped.indexOf(ESC, start);
  }
  o += escaped.copy(out, o, start);
  return out.subarray(0, o);
}
