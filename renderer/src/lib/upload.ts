/**
 * Local files for the source picker. A browser page cannot hand the web host a path, so the file's bytes go
 * to the app through `files.upload.*` (core/uploads): begin, 1 MiB chunks (one WebSocket message each, well
 * under the host's 4 MiB cap), finish with the sha256 computed here, which the host checks before it keeps
 * the file. The answer is a path on this machine that check, deploy and the kit methods take. The desktop
 * window never uploads: its file dialog gives the path itself (api.ts, `openFile`).
 *
 * The hash is incremental (@noble/hashes, audited and maintained): WebCrypto's `digest` takes the whole file
 * at once, up to 1 GiB in the page's memory and the file read twice; this one hashes each chunk as it is sent.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ApiError, type ApiClient } from '../../../core/api/client.js';
import { UPLOAD_MAX_BYTES, type UploadedFile } from '../../../core/api/contract.js';
import { formatBytes } from '../../../core/units.js';
import type { Progress } from './progress.js';

/** What a local file can be for the picker's caller: a WASM module, a bundle (tar+gzip) or an offline kit (tar). */
export type FileKind = 'wasm' | 'bundle' | 'kit';

const KINDS: Record<FileKind, { words: string; accept: string[] }> = {
  wasm: { words: 'a .wasm module', accept: ['.wasm', 'application/wasm'] },
  bundle: { words: 'a .tar.gz bundle', accept: ['.tar.gz', '.tgz', '.gz', 'application/gzip'] },
  kit: { words: 'an offline kit (.tar)', accept: ['.tar', 'application/x-tar'] },
};

/** The file input's `accept` for these kinds. */
export function acceptAttribute(kinds: readonly FileKind[]): string {
  return kinds.flatMap((k) => KINDS[k].accept).join(',');
}

/** "a .wasm module or a .tar.gz bundle". */
export function kindWords(kinds: readonly FileKind[]): string {
  const words = kinds.map((k) => KINDS[k].words);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? 'a file');
}

/** The desktop file dialog offers two sets of filters: payloads (.wasm, bundles) and kits. */
export function dialogKind(kinds: readonly FileKind[]): 'payload' | 'kit' {
  return kinds.includes('kit') && !kinds.includes('wasm') && !kinds.includes('bundle') ? 'kit' : 'payload';
}

/** What a file's first bytes say it is: the WASM header, the gzip magic, or a ustar header. */
export function sniff(head: Uint8Array): FileKind | undefined {
  if (head[0] === 0x00 && head[1] === 0x61 && head[2] === 0x73 && head[3] === 0x6d) return 'wasm';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'bundle';
  if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') return 'kit';
  return undefined;
}

/** A file's bytes, or IO_ERROR naming it when the browser cannot read them (moved, changed, unreadable). */
async function read(file: Blob, name: string, start: number, end: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await file.slice(start, end).arrayBuffer());
  } catch {
    throw new ApiError({ code: 'IO_ERROR', message: `Could not read ${name}: it was moved, changed or is not readable.`, hint: 'Choose the file again.' });
  }
}

/**
 * Refuse, before anything is sent, a file whose first bytes are none of `kinds` (a file input's `accept` is
 * only a suggestion: "All files" is one click away). The app checks the content again when it is used.
 */
export async function checkKind(file: Blob & { name: string }, kinds: readonly FileKind[]): Promise<FileKind> {
  const kind = sniff(await read(file, file.name, 0, 512));
  if (kind && kinds.includes(kind)) return kind;
  throw new ApiError({
    code: 'INVALID_INPUT',
    message: `${file.name} is not ${kindWords(kinds)}${kind ? ` (it looks like ${KINDS[kind].words})` : ''}.`,
    hint: `Choose ${kindWords(kinds)}.`,
  });
}

type Base64Bytes = Uint8Array & { toBase64?: () => string };

/** Bytes as base64 (RFC 4648, padded): the engine's own encoder where it has one, else in slices through btoa. */
export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Base64Bytes).toBase64;
  if (typeof native === 'function') return native.call(bytes);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export interface UploadOptions {
  /** Abort to give the upload up (a cancel, the screen left): the host removes what it received. */
  signal: AbortSignal;
  /** Bytes sent so far of the file's size, after each chunk the host accepted. */
  onProgress?: (progress: Progress) => void;
}

/**
 * Hand a local file to the app: begin, chunks of the size the host names (the next one read and hashed
 * while the last one is on its way), finish with the sha256. Any failure or an abort gives the upload up on
 * the host too (`files.upload.abort`), so no partial file stays behind.
 */
export async function uploadFile(api: ApiClient, file: Blob & { name: string }, opts: UploadOptions): Promise<UploadedFile> {
  const { signal } = opts;
  const name = file.name;
  if (file.size > UPLOAD_MAX_BYTES) {
    throw new ApiError({
      code: 'INVALID_INPUT',
      message: `${name} is ${formatBytes(file.size)}, over the ${formatBytes(UPLOAD_MAX_BYTES)} a browser window can hand to Flight Deck.`,
      hint: 'Type the file’s path in the field instead: Flight Deck reads a file on this machine where it is, whatever its size.',
    });
  }
  const begun = await api.call('files.upload.begin', { name, size: file.size }, { signal });
  const hash = sha256.create();
  const step = begun.chunkBytes;
  const progress = (done: number) => opts.onProgress?.({ done, total: file.size, detail: name });
  try {
    progress(0);
    let offset = 0;
    let next: Promise<Uint8Array> | undefined = file.size > 0 ? read(file, name, 0, step) : undefined;
    while (next) {
      const bytes = await next;
      if (bytes.length === 0)
        throw new ApiError({ code: 'IO_ERROR', message: `${name} ended early: it changed while it was read.`, hint: 'Choose the file again.' });
      hash.update(bytes);
      const data = toBase64(bytes);
      const end = offset + bytes.length;
      next = end < file.size ? read(file, name, end, end + step) : undefined;
      // A read that fails while this chunk is on its way is reported when it is awaited, not as unhandled.
      next?.catch(() => {});
      const { received } = await api.call('files.upload.chunk', { upload: begun.upload, offset, data }, { signal });
      if (received !== end)
        throw new ApiError({
          code: 'INTERNAL',
          message: `Upload of ${name}: the app has ${received} bytes, ${end} were sent.`,
          hint: 'Choose the file again.',
        });
      offset = end;
      progress(offset);
    }
    return await api.call('files.upload.finish', { upload: begun.upload, sha256: bytesToHex(hash.digest()) }, { signal });
  } catch (err) {
    // No signal: the abort must reach the host even when the upload was cancelled.
    await api.call('files.upload.abort', { upload: begun.upload }).catch(() => {});
    throw err;
  }
}
