/**
 * Byte reading for the WASM parser: a synchronous `Cursor` over bytes already in memory (fast, used for
 * each section or function body) and an asynchronous `StreamReader` that pulls chunks from any
 * AsyncIterable<Uint8Array> (a file stream, a tar entry, an OCI blob) and only keeps what the parser is
 * looking at. Offsets in errors are always absolute byte offsets in the input.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FlightDeckError } from '../errors.js';

/** Bad bytes at a known offset; the parser turns it into WASM_MALFORMED naming the input. */
export class WasmFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Thrown when a read runs past the end of the bytes at hand (truncation, or a window to grow). */
export class EndOfData extends WasmFormatError {}

export function malformed(input: string, err: WasmFormatError): FlightDeckError {
  return new FlightDeckError('WASM_MALFORMED', `${input}: ${err.message} at byte offset ${err.offset}.`, {
    details: { input, offset: err.offset, reason: err.message },
  });
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Cursor {
  pos: number;
  /** End of the bytes this cursor may read (the code section narrows it to one function body at a time). */
  end: number;

  /** `base` is the absolute offset of bytes[0] in the input. */
  constructor(
    readonly bytes: Uint8Array,
    readonly base: number,
    pos = 0,
    end = bytes.length,
  ) {
    this.pos = pos;
    this.end = end;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, at = this.offset): never {
    throw new WasmFormatError(message, at);
  }

  u8(): number {
    if (this.pos >= this.end) throw new EndOfData('unexpected end of data', this.offset);
    return this.bytes[this.pos++]!;
  }

  skip(n: number): void {
    if (n > this.end - this.pos) throw new EndOfData(`length ${n} runs past the end of the data`, this.offset);
    this.pos += n;
  }

  take(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, start + n);
  }

  /** Unsigned 32-bit LEB128 (indices, sizes, counts). */
  u32(): number {
    const b = this.bytes;
    let p = this.pos;
    if (p + 4 <= this.end) {
      // up to four bytes (28 bits) with integer arithmetic; longer ones take the checked loop below
      let x = b[p++]!;
      let v = x & 0x7f;
      if (x < 0x80) {
        this.pos = p;
        return v;
      }
      x = b[p++]!;
      v |= (x & 0x7f) << 7;
      if (x < 0x80) {
        this.pos = p;
        return v;
      }
      x = b[p++]!;
      v |= (x & 0x7f) << 14;
      if (x < 0x80) {
        this.pos = p;
        return v;
      }
      x = b[p++]!;
      v |= (x & 0x7f) << 21;
      if (x < 0x80) {
        this.pos = p;
        return v;
      }
    } else if (p < this.end && b[p]! < 0x80) {
      this.pos = p + 1;
      return b[p]!;
    }
    const start = this.offset;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b & 0xf0) this.fail('LEB128 overflow (u32)', start);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail('LEB128 overflow (u32)', start);
  }

  /**
   * Unsigned LEB128 up to 64 bits, as a number: exact up to 2^53 (every real limit), larger values are
   * clamped to Number.MAX_SAFE_INTEGER so reports stay valid JSON integers.
   */
  u64(): number {
    const start = this.offset;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      if (i === 9 && b & 0xfe) this.fail('LEB128 overflow (u64)', start);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return Math.min(result, Number.MAX_SAFE_INTEGER);
      shift += 7;
    }
    return this.fail('LEB128 overflow (u64)', start);
  }

  /** Signed LEB128 of `bits` bits; the value is only needed for block types (s33), so return it loosely. */
  sleb(bits: 32 | 33 | 64): number {
    const start = this.offset;
    const max = Math.ceil(bits / 7);
    let result = 0;
    let shift = 0;
    for (let i = 0; i < max; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 2 ** shift;
        return result;
      }
      if (i === max - 1) break;
    }
    return this.fail(`LEB128 overflow (s${bits})`, start);
  }

  /**
   * Step over a LEB128 number whose value is not needed (instruction immediates), still rejecting
   * overlong encodings and, in the last byte, bits beyond the type's width: `lastMask` is the set of
   * last-byte bits that must be clear (unsigned) or, for signed types, all equal to the sign bit.
   */
  skipLeb(maxBytes: number, lastMask: number, signed: boolean): void {
    const b = this.bytes;
    const end = this.end;
    let p = this.pos;
    for (let i = 0; i < maxBytes; i++) {
      if (p >= end) throw new EndOfData('unexpected end of data', this.base + p);
      const byte = b[p++]!;
      if ((byte & 0x80) === 0) {
        if (i === maxBytes - 1) {
          const high = byte & lastMask;
          if (signed ? high !== 0 && high !== lastMask : high !== 0) break;
        }
        this.pos = p;
        return;
      }
    }
    this.fail('LEB128 overflow', this.base + this.pos);
  }

  skipU32(): void {
    this.skipLeb(5, 0x70, false);
  }

  /** A vector count that cannot possibly fit in what is left (each item takes at least `minItemBytes`). */
  count(what: string, minItemBytes = 1): number {
    const at = this.offset;
    const n = this.u32();
    if (n * minItemBytes > this.end - this.pos) this.fail(`${what} count ${n} is larger than the bytes left`, at);
    return n;
  }

  name(): string {
    const n = this.u32();
    const at = this.offset;
    try {
      return decoder.decode(this.take(n));
    } catch (err) {
      if (err instanceof WasmFormatError) throw err;
      return this.fail('name is not valid UTF-8', at);
    }
  }
}

/**
 * Pulls chunks on demand. `need(n)` makes n bytes available from the current position (or fewer at the
 * end of input / the current limit); `cursor(n)` hands them out as a Cursor. Memory held is the largest
 * single unit the parser asked for (a section, or one function body), never the whole input.
 */
export class StreamReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  private done = false;
  /** The source's own error (a truncated nested module, a tar or digest failure), rethrown when more is needed. */
  private failure: { err: unknown } | undefined;
  private readonly it: AsyncIterator<Uint8Array>;
  /**
   * Bytes consumed so far are mirrored here when a cross-check wants the whole module: one buffer, grown
   * by doubling (sized up front when the module's size is known), so mirroring costs one copy per byte
   * and no allocation per item (a slice per function body cost more than decoding a large module).
   */
  private tee: Uint8Array | undefined;
  private teeBytes = 0;
  private teeCap = 0;

  /** `base` is the absolute offset of the source's first byte (nested modules start mid-file). */
  constructor(source: AsyncIterable<Uint8Array>, base = 0) {
    this.it = source[Symbol.asyncIterator]();
    this.base = base;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  private get available(): number {
    return this.buf.length - this.pos;
  }

  /** Make up to n bytes available; returns how many are. */
  async need(n: number): Promise<number> {
    if (this.available >= n) return n;
    // What is left of the current buffer (nothing, at the start or after a whole chunk was consumed).
    const parts: Uint8Array[] = this.available > 0 ? [this.buf.subarray(this.pos)] : [];
    let have = this.available;
    while (have < n && !this.done) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.it.next();
      } catch (err) {
        // Keep what was read: the caller may still parse it (and meet the failure again when it needs more).
        this.done = true;
        this.failure = { err };
        break;
      }
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = plain(next.value);
      if (chunk.length === 0) continue;
      parts.push(chunk);
      have += chunk.length;
    }
    this.base += this.pos;
    this.pos = 0;
    this.buf = parts.length === 0 ? new Uint8Array(0) : parts.length === 1 ? parts[0]! : concat(parts, have);
    if (have < n && this.failure) throw this.failure.err;
    return Math.min(have, n);
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return (await this.need(1)) === 0;
  }

  /** A cursor over exactly n bytes; fails (truncated input) when fewer remain. */
  async cursor(n: number, what: string): Promise<Cursor> {
    const have = await this.need(n);
    if (have < n) throw new WasmFormatError(`${what} needs ${n} bytes but the input ends after ${have}`, this.offset + have);
    const c = new Cursor(this.buf.subarray(this.pos, this.pos + n), this.offset);
    this.consume(n);
    return c;
  }

  /**
   * Run a synchronous parse over a window of at most `max` bytes, growing the window when the parse runs
   * past what was buffered. Used for small variable-length headers (LEB128 numbers, segment headers).
   */
  async parse<T>(max: number, fn: (c: Cursor) => T): Promise<T> {
    let want = Math.min(max, 64);
    for (;;) {
      const have = await this.need(want);
      const c = new Cursor(this.buf, this.base, this.pos, this.pos + have);
      try {
        const value = fn(c);
        this.consume(c.pos - this.pos);
        return value;
      } catch (err) {
        const short = err instanceof EndOfData && have === want && want < max;
        if (!short) throw err;
        want = Math.min(max, want * 8);
      }
    }
  }

  /**
   * Synchronous fast path for length-prefixed items (function bodies): when a u32 length and that many
   * bytes are already buffered, consume them and return a cursor over the item; otherwise undefined and
   * nothing is consumed (the caller takes the asynchronous path, which also reports the errors).
   */
  sizedNow(): Cursor | undefined {
    const probe = new Cursor(this.buf, this.base, this.pos);
    let size: number;
    try {
      size = probe.u32();
    } catch {
      return undefined;
    }
    if (probe.remaining < size) return undefined;
    const c = new Cursor(this.buf.subarray(probe.pos, probe.pos + size), this.base + probe.pos);
    this.consume(probe.pos + size - this.pos);
    return c;
  }

  /** Drop n bytes without keeping them (data segment payloads, unknown custom sections). */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const have = await this.need(Math.min(left, 1 << 20));
      if (have === 0) throw new WasmFormatError(`${what} runs past the end of the input`, this.offset);
      this.consume(have);
      left -= have;
    }
  }

  /** Yield the next n bytes as chunks (a nested module or a tar entry body), without buffering them all. */
  async *chunks(n: number, what: string): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const have = await this.need(Math.min(left, 1 << 16));
      if (have === 0) throw new WasmFormatError(`${what} runs past the end of the input`, this.offset);
      const chunk = this.buf.subarray(this.pos, this.pos + have);
      this.consume(have);
      left -= have;
      yield chunk;
    }
  }

  /**
   * Keep a copy of the bytes consumed from here on, up to `cap` bytes (beyond it, the copy is dropped).
   * `expected` (the module's declared size, when known) sizes the copy once.
   */
  startTee(cap: number, expected?: number): void {
    this.tee = new Uint8Array(Math.min(cap, expected !== undefined && expected > 0 ? expected : 64 * 1024));
    this.teeBytes = 0;
    this.teeCap = cap;
  }

  stopTee(): Uint8Array | undefined {
    const tee = this.tee;
    this.tee = undefined;
    return tee?.subarray(0, this.teeBytes);
  }

  private consume(n: number): void {
    if (this.tee) {
      const end = this.teeBytes + n;
      if (end > this.teeCap) this.tee = undefined;
      else {
        if (end > this.tee.length) {
          const grown = new Uint8Array(Math.min(this.teeCap, Math.max(end, this.tee.length * 2)));
          grown.set(this.tee.subarray(0, this.teeBytes));
          this.tee = grown;
        }
        this.tee.set(this.buf.subarray(this.pos, this.pos + n), this.teeBytes);
        this.teeBytes = end;
      }
    }
    this.pos += n;
  }
}

/**
 * The chunk as a plain Uint8Array view of the same memory (no copy). Sources hand out Buffers, plain
 * Uint8Arrays or ArrayBuffers; keeping one array type keeps the decoder's byte loads monomorphic.
 */
function plain(value: Uint8Array | ArrayBuffer): Uint8Array {
  if (value instanceof Uint8Array) return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

function concat(parts: Uint8Array[], total: number): Uint8Array<ArrayBufferLike> {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An in-memory input as a one-chunk source. */
export async function* bytesSource(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Files up to this size are read with one read into one buffer; larger ones stream in FILE_CHUNK pieces. */
export const WHOLE_FILE_MAX = 16 * 1024 * 1024;
const FILE_CHUNK = 1024 * 1024;

/**
 * A file's bytes as a source. A file of at most WHOLE_FILE_MAX bytes (every real module we have seen) is
 * one `read` into one buffer: a stream's 64 KiB chunks cost more in event-loop round trips and re-buffering
 * than decoding the whole code section. A larger file streams in 1 MiB chunks, so memory stays bounded
 * by the parser's own window (one section or one function body).
 */
export async function* fileSource(file: string): AsyncGenerator<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    let position = 0;
    if (size <= WHOLE_FILE_MAX) {
      const buf = Buffer.allocUnsafe(size);
      while (position < size) {
        const { bytesRead } = await fh.read(buf, position, size - position, position);
        if (bytesRead === 0) break;
        position += bytesRead;
      }
      if (position > 0) yield buf.subarray(0, position);
      if (position < size) return; // the file shrank while we read it
    }
    for (;;) {
      const buf = Buffer.allocUnsafe(FILE_CHUNK);
      const { bytesRead } = await fh.read(buf, 0, FILE_CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Bytes per read(2) of a shared read: the caller hashes one slice while the next is read. */
const SHARED_READ_SLICE = 2 * 1024 * 1024;

/**
 * A file of `size` bytes read into one SharedArrayBuffer (an engine worker reads it in place, no copy),
 * as slices of that memory: the read of the next slice is in flight (on the thread pool) while the caller
 * hashes the current one. The bytes are read straight into the shared memory,
 * no chunk buffers to allocate and copy (on this machine each fresh MiB costs ~3 ms of page faults).
 * `whole` settles once every byte is in (the worker's turn); a file that is not `size` bytes any more
 * (it changed while read) fails both with IO_ERROR.
 */
export function readShared(file: string, size: number): { whole: Promise<Uint8Array>; slices: AsyncGenerator<Uint8Array> } {
  const bytes = new Uint8Array(new SharedArrayBuffer(size));
  let settle: { resolve: (b: Uint8Array) => void; reject: (err: unknown) => void } | undefined;
  const whole = new Promise<Uint8Array>((resolve, reject) => (settle = { resolve, reject }));
  // Read by the generator; a caller that stops early leaves it pending (and catches it).
  whole.catch(() => {});
  const changed = () =>
    new FlightDeckError('IO_ERROR', `${file} changed while it was read.`, { hint: 'Inspect it again once nothing writes to it.', details: { input: file } });
  async function* slices(): AsyncGenerator<Uint8Array> {
    let fh: FileHandle | undefined;
    let pending: Promise<number> | undefined;
    try {
      fh = await open(file, 'r');
      const f = fh;
      const readAt = async (position: number): Promise<number> => {
        const { bytesRead } = await f.read(bytes, position, Math.min(SHARED_READ_SLICE, size - position), position);
        if (bytesRead === 0) throw changed();
        return bytesRead;
      };
      let position = 0;
      pending = size > 0 ? readAt(0) : undefined;
      while (pending) {
        const n = await pending;
        const slice = bytes.subarray(position, position + n);
        position += n;
        pending = position < size ? readAt(position) : undefined;
        if (!pending) {
          const { bytesRead } = await f.read(Buffer.alloc(1), 0, 1, size);
          if (bytesRead !== 0) throw changed();
          settle!.resolve(bytes);
        }
        yield slice;
      }
    } catch (err) {
      settle!.reject(err);
      throw err;
    } finally {
      // A caller that stopped early (the decoder failed) leaves a read in flight: let it land first.
      await pending?.catch(() => {});
      await fh?.close();
    }
  }
  return { whole, slices: slices() };
}
