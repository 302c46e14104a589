/**
 * A small streaming reader for tar+gzip bundles. Nothing is written to disk: entries are handed to the
 * caller as byte streams, in archive order. It reads ustar, GNU long names (`L`) and pax `path` records,
 * and refuses what a safe extractor must refuse (absolute or `..` paths, links, devices), gzip bombs
 * (unpacked size and compression ratio caps) and archives with too many entries.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FlightDeckError } from '../errors.js';
import { StreamReader, WasmFormatError } from './reader.js';

export interface BundleLimits {
  /** Total unpacked bytes. */
  maxUnpackedBytes: number;
  /** Unpacked/packed ratio, enforced once more than `ratioFloor` bytes are unpacked. */
  maxRatio: number;
  ratioFloor: number;
  maxEntries: number;
  /** Largest manifest.json / long-name / pax record read into memory. */
  maxMetadataBytes: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxUnpackedBytes: 1024 ** 3,
  maxRatio: 200,
  ratioFloor: 16 * 1024 ** 2,
  maxEntries: 10_000,
  maxMetadataBytes: 1024 ** 2,
};

export interface BundleEntry {
  path: string;
  size: number;
  /** The entry's bytes; read them (or not) before asking for the next entry. */
  bytes: AsyncIterable<Uint8Array>;
}

/** Thrown for bundle-level problems; `offset` is in the unpacked tar stream. */
function bad(name: string, message: string, offset: number): FlightDeckError {
  return new FlightDeckError('BUNDLE_MALFORMED', `${name}: ${message} at byte offset ${offset} of the unpacked archive.`, {
    details: { input: name, offset },
  });
}

/**
 * Walk the regular files of a tar+gzip stream. `visit` is called for each file in order; whatever it
 * leaves unread is skipped.
 */
export async function walkTarGz(
  name: string,
  source: AsyncIterable<Uint8Array>,
  visit: (entry: BundleEntry) => Promise<void>,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  let packed = 0;
  let unpacked = 0;
  const counted = async function* () {
    for await (const chunk of source) {
      packed += chunk.length;
      yield chunk;
    }
  };
  const gunzip = Readable.from(counted()).pipe(createGunzip());
  const inflated = async function* () {
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        unpacked += chunk.length;
        if (unpacked > limits.maxUnpackedBytes) {
          throw bad(name, `unpacks to more than ${limits.maxUnpackedBytes} bytes (gzip bomb guard)`, unpacked);
        }
        if (unpacked > limits.ratioFloor && unpacked > packed * limits.maxRatio) {
          throw bad(name, `compression ratio above ${limits.maxRatio}:1 (gzip bomb guard)`, unpacked);
        }
        yield chunk;
      }
    } catch (err) {
      if (err instanceof FlightDeckError) throw err;
      throw new FlightDeckError('BUNDLE_MALFORMED', `${name}: not a valid gzip stream (${(err as Error).message}) after ${packed} compressed bytes.`, {
        cause: err,
        details: { input: name, offset: packed },
      });
    } finally {
      gunzip.destroy();
    }
  };
  const r = new StreamReader(inflated());
  try {
    await walkTar(name, r, visit, limits);
  } catch (err) {
    if (err instanceof WasmFormatError) throw bad(name, err.message, err.offset);
    throw err;
  }
}

/** Walk a plain (uncompressed) tar stream with the same rules and limits (kits are plain tar files). */
export async function walkPlainTar(
  name: string,
  source: AsyncIterable<Uint8Array>,
  visit: (entry: BundleEntry) => Promise<void>,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  try {
    await walkTar(name, new StreamReader(source), visit, limits);
  } catch (err) {
    if (err instanceof WasmFormatError) throw bad(name, err.message, err.offset);
    throw err;
  }
}

async function walkTar(name: string, r: StreamReader, visit: (entry: BundleEntry) => Promise<void>, limits: BundleLimits): Promise<void> {
  let entries = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  for (;;) {
    if (await r.atEnd()) return; // tolerated: some writers omit the end-of-archive blocks
    const at = r.offset;
    const h = await r.cursor(512, 'a tar header');
    const block = h.bytes;
    if (block.every((b) => b === 0)) return;
    verifyChecksum(name, block, at);
    const size = octal(name, block, 124, 12, at);
    const type = String.fromCharCode(block[156]!);
    const padded = size + ((512 - (size % 512)) % 512);
    if (type === 'L' || type === 'x') {
      if (size > limits.maxMetadataBytes) throw bad(name, `a ${type === 'L' ? 'long name' : 'pax'} record of ${size} bytes`, at);
      const text = new TextDecoder().decode((await r.cursor(size, 'a tar metadata record')).bytes);
      await r.skip(padded - size, 'tar padding');
      if (type === 'L') longName = text.replace(/\0+$/, '');
      else paxPath = paxRecord(text, 'path') ?? paxPath;
      continue;
    }
    let path = paxPath ?? longName ?? headerName(block);
    longName = paxPath = undefined;
    if (++entries > limits.maxEntries) throw bad(name, `more than ${limits.maxEntries} entries`, at);
    if (type === '1' || type === '2') throw bad(name, `refuses link entry "${path}"`, at);
    if (type === '3' || type === '4' || type === '6') throw bad(name, `refuses device or fifo entry "${path}"`, at);
    path = safePath(name, path, at);
    if (type === '0' || type === '\0' || type === '7') {
      const body = r.chunks(size, `entry "${path}"`);
      await visit({ path, size, bytes: body });
      for await (const _ of body) {
        // drain what the visitor left unread
      }
      await r.skip(padded - size, 'tar padding');
    } else {
      await r.skip(padded, `entry "${path}"`);
    }
  }
}

function verifyChecksum(name: string, block: Uint8Array, at: number): void {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  const stored = octal(name, block, 148, 8, at);
  if (stored !== sum) throw bad(name, 'tar header checksum mismatch', at);
}

function octal(name: string, block: Uint8Array, start: number, len: number, at: number): number {
  const text = new TextDecoder().decode(block.subarray(start, start + len)).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]*$/.test(text)) throw bad(name, `invalid tar number field "${text.slice(0, 12)}"`, at + start);
  return text === '' ? 0 : parseInt(text, 8);
}

function headerName(block: Uint8Array): string {
  const str = (s: number, n: number) => new TextDecoder().decode(block.subarray(s, s + n)).replace(/\0.*$/s, '');
  const name = str(0, 100);
  const ustar = str(257, 5) === 'ustar';
  const prefix = ustar ? str(345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function paxRecord(text: string, key: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m && m[1] === key) return m[2];
  }
  return undefined;
}

/** Relative, no `..`, no NUL: the entry names a file inside the bundle. */
function safePath(name: string, raw: string, at: number): string {
  const path = raw.replace(/^(\.\/)+/, '');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0')) {
    throw bad(name, `refuses absolute or non-portable path "${raw}"`, at);
  }
  if (path.split('/').some((seg) => seg === '..')) throw bad(name, `refuses path with ".." "${raw}"`, at);
  return path;
}
