/**
 * One streaming reader for tar and tar+gzip, shared by everything that opens archives (WASM bundles,
 * `pull --unpack`, kits). It reads ustar, GNU long names and link names (`L`, `K`) and pax records (`x`
 * path/linkpath/size, read by their record length so values may hold newlines; `g` checked, not applied),
 * verifies every header checksum, and hands entries to the caller in archive order with
 * their bytes as a stream (whatever the caller leaves unread is skipped). It never writes anything and
 * makes no policy about links or paths: callers decide what to refuse. Limits guard memory and gzip
 * bombs. Problems are `TarFormatError`s with the byte offset in the unpacked stream; callers map them to
 * their own error code.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
  constructor(
    message: string,
    /** Byte offset in the (unpacked) tar stream, or in the compressed input for gzip errors. */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface TarLimits {
  /** Total unpacked bytes (gzip only). */
  maxUnpackedBytes: number;
  /** Unpacked/packed ratio, enforced once more than `ratioFloor` bytes are unpacked (gzip only). */
  maxRatio: number;
  ratioFloor: number;
  maxEntries: number;
  /** Largest long-name / pax record read into memory. */
  maxMetadataBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxUnpackedBytes: 1024 ** 3,
  maxRatio: 200,
  ratioFloor: 16 * 1024 ** 2,
  maxEntries: 10_000,
  maxMetadataBytes: 1024 ** 2,
};

/** `0` file (also for NUL and `7`), `1` hard link, `2` symlink, `3`/`4` device, `5` directory, `6` FIFO. */
export type TarType = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'other';

export interface TarEntry {
  /** As stored (pax/long names applied); not checked here: each caller applies its own path policy (`safeRelative` in core/oci/extract.ts, `safePath` in core/wasm/bundle.ts, the kit reader). */
  path: string;
  type: TarType;
  size: number;
  mode: number;
  linkname: string;
  /** Offset of the entry's header in the tar stream. */
  offset: number;
  /** The entry's bytes; read them (or not) before asking for the next entry. */
  body: AsyncIterable<Buffer>;
}

/** Gunzip with bomb guards: total size and ratio caps. */
export async function* gunzipLimited(source: AsyncIterable<Uint8Array>, limits: TarLimits = DEFAULT_TAR_LIMITS): AsyncGenerator<Buffer> {
  let packed = 0;
  let unpacked = 0;
  let sourceError: unknown;
  const counted = async function* () {
    for await (const chunk of source) {
      packed += chunk.length;
      yield chunk;
    }
  };
  // pipe() does not forward a source error: hand it to gunzip, or it would be an uncaught 'error' event.
  const input = Readable.from(counted());
  const gunzip = createGunzip();
  input.once('error', (err) => {
    sourceError = err;
    gunzip.destroy(err);
  });
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      unpacked += chunk.length;
      if (unpacked > limits.maxUnpackedBytes) throw new TarFormatError(`unpacks to more than ${limits.maxUnpackedBytes} bytes (gzip bomb guard)`, unpacked);
      if (unpacked > limits.ratioFloor && unpacked > packed * limits.maxRatio) {
        throw new TarFormatError(`compression ratio above ${limits.maxRatio}:1 (gzip bomb guard)`, unpacked);
      }
      yield chunk;
    }
  } catch (err) {
    // The source's own failure (e.g. a corrupt stored blob, BLOB_CORRUPT) is not a gzip problem.
    if (err instanceof TarFormatError || err === sourceError) throw err;
    throw new TarFormatError(`not a valid gzip stream (${(err as Error).message})`, packed);
  } finally {
    gunzip.destroy();
    input.destroy();
  }
}

/** Walk the entries of an (uncompressed) tar stream. End-of-archive blocks may be missing. */
export async function* tarEntries(source: AsyncIterable<Uint8Array>, limits: TarLimits = DEFAULT_TAR_LIMITS): AsyncGenerator<TarEntry> {
  const it = source[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let offset = 0; // stream offset of buf[0]
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length < n) {
      const r = await it.next();
      if (r.done) return false;
      buf = buf.length === 0 ? Buffer.from(r.value) : Buffer.concat([buf, r.value]);
    }
    return true;
  };
  const take = (n: number): Buffer => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    offset += n;
    return out;
  };
  const need = async (n: number, what: string): Promise<Buffer> => {
    if (!(await fill(n))) throw new TarFormatError(`truncated archive: ${what} ends early`, offset + buf.length);
    return take(n);
  };

  let entries = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    if (!(await fill(1))) return;
    const at = offset;
    const header = await need(512, 'a tar header');
    if (header.every((b) => b === 0)) return;
    verifyChecksum(header, at);
    const typeChar = String.fromCharCode(header[156] ?? 0x30);
    const isMeta = typeChar === 'L' || typeChar === 'K' || typeChar === 'x' || typeChar === 'g';
    // A pax `size` record replaces the header's size field (GNU tar does the same).
    const size = !isMeta && pax.size !== undefined ? paxNumber(pax.size, 'size', at) : octal(header, 124, 12, at);
    const padded = size + ((512 - (size % 512)) % 512);
    if (isMeta) {
      if (size > limits.maxMetadataBytes) throw new TarFormatError(`a metadata record of ${size} bytes`, at);
      const raw = (await need(padded, 'a tar metadata record')).subarray(0, size);
      if (typeChar === 'L') longName = cString(raw);
      else if (typeChar === 'K') longLink = cString(raw);
      else if (typeChar === 'x') pax = paxRecords(raw, at + 512);
      else paxRecords(raw, at + 512); // global records are checked, not applied
      continue;
    }
    if (++entries > limits.maxEntries) throw new TarFormatError(`more than ${limits.maxEntries} entries`, at);
    const path = pax.path ?? longName ?? headerName(header);
    const linkname = pax.linkpath ?? longLink ?? field(header, 157, 100);
    longName = undefined;
    longLink = undefined;
    pax = {};
    let remaining = size;
    const body = (async function* () {
      while (remaining > 0) {
        if (buf.length === 0 && !(await fill(1))) throw new TarFormatError(`truncated archive: entry "${path.slice(0, 200)}" ends early`, offset);
        const chunk = take(Math.min(remaining, buf.length));
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { path, type: tarType(typeChar), size, mode: octal(header, 100, 8, at) || 0o644, linkname, offset: at, body };
    for await (const _ of body) void _; // skip what the caller left unread
    if (padded > size) await need(padded - size, 'tar padding');
  }
}

function tarType(c: string): TarType {
  if (c === '0' || c === '\0' || c === '7') return '0';
  return (['1', '2', '3', '4', '5', '6'] as const).find((t) => t === c) ?? 'other';
}

function field(block: Buffer, start: number, len: number): string {
  const s = block.subarray(start, start + len);
  const nul = s.indexOf(0);
  return (nul >= 0 ? s.subarray(0, nul) : s).toString('utf8');
}

function headerName(block: Buffer): string {
  const name = field(block, 0, 100);
  // Only POSIX ustar (`ustar\0`) has a prefix field; the old GNU format (`ustar  `) keeps times there.
  const posix = field(block, 257, 6) === 'ustar' && block[262] === 0;
  const prefix = posix ? field(block, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** A GNU long name/link record: the bytes up to the first NUL. */
function cString(raw: Buffer): string {
  const nul = raw.indexOf(0);
  return (nul >= 0 ? raw.subarray(0, nul) : raw).toString('utf8');
}

function octal(block: Buffer, start: number, len: number, at: number): number {
  const text = field(block, start, len).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`invalid tar number field "${text.slice(0, 12)}"`, at + start);
  return text === '' ? 0 : parseInt(text, 8);
}

function verifyChecksum(block: Buffer, at: number): void {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  if (octal(block, 148, 8, at) !== sum) throw new TarFormatError('tar header checksum mismatch', at);
}

/**
 * Pax extended header records, `<length> <key>=<value>\n`, where `<length>` is the decimal byte length of
 * the whole record (itself included) and the value may hold any byte, newlines too. Records are read by
 * their length, never split on newlines; a record whose length does not land on its newline is refused,
 * as GNU tar refuses it.
 */
function paxRecords(raw: Buffer, at: number): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < raw.length) {
    // GNU tar stops at padding NULs after the last record.
    if (raw[pos] === 0) break;
    let p = pos;
    while (p < raw.length && p - pos < 20 && raw[p]! >= 0x30 && raw[p]! <= 0x39) p++;
    if (p === pos || raw[p] !== 0x20) throw new TarFormatError('malformed pax header: a record does not start with "<length> "', at + pos);
    const len = Number(raw.subarray(pos, p).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= p - pos + 1 || pos + len > raw.length) {
      throw new TarFormatError(`malformed pax header: record length ${raw.subarray(pos, p).toString('latin1').slice(0, 20)} does not fit the header`, at + pos);
    }
    const end = pos + len;
    if (raw[end - 1] !== 0x0a) throw new TarFormatError('malformed pax header: a record does not end where its length says', at + pos);
    const record = raw.subarray(p + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError('malformed pax header: a record has no "key="', at + pos);
    out[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString('utf8');
    pos = end;
  }
  return out;
}

function paxNumber(value: string, key: string, at: number): number {
  if (!/^\d{1,15}$/.test(value)) throw new TarFormatError(`malformed pax header: ${key}=${JSON.stringify(value.slice(0, 20))} is not a decimal number`, at);
  return Number(value);
}
