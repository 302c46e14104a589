/**
 * Schemas of local files handed to the app through its api (core/uploads): a browser page cannot give
 * the web host a path, so it sends the file's bytes in chunks and gets back a path on this machine that
 * check, deploy and the kit methods take. Browser-safe: zod only.
 */
import { z } from 'zod';

/** Largest file one upload may hold (a kit of several platforms stays well below it). */
export const UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;
/** Largest chunk, in bytes before base64: one chunk is a WebSocket message well under its 4 MiB cap. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/** An upload under way, named by the host (random hex), never by the caller. */
export const UploadIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'an upload id (32 hex digits)');

/**
 * Padded base64 (RFC 4648 alphabet, length a multiple of 4, `=` only at the end). A loop, not a regular
 * expression: `^(?:[A-Za-z0-9+/]{4})*…$` took 200 ms per 1 MiB chunk, which made uploads crawl at 1 MiB/s.
 */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n % 4 !== 0) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < n - pad; i++) {
    const c = s.charCodeAt(i);
    // A-Z, a-z, 0-9, '+', '/'
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47)) return false;
  }
  return true;
}

export const UploadBeginInputSchema = z
  .object({
    /** The file's name on the caller's machine: shown, and kept (made safe) as the stored file's name. */
    name: z.string().min(1).max(1024),
    size: z.number().int().nonnegative(),
  })
  .strict();

export const UploadBeginSchema = z.object({
  upload: UploadIdSchema,
  /** The largest chunk the host takes, in bytes (before base64). */
  chunkBytes: z.number().int().positive(),
});
export type UploadBegin = z.infer<typeof UploadBeginSchema>;

export const UploadChunkInputSchema = z
  .object({
    upload: UploadIdSchema,
    /** Where these bytes start: chunks come in order, each where the last one ended. */
    offset: z.number().int().nonnegative(),
    /** The bytes, base64 (RFC 4648, padded). */
    data: z
      .string()
      .max(Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4)
      .refine(isBase64, 'base64'),
  })
  .strict();

export const UploadChunkSchema = z.object({ received: z.number().int().nonnegative() });

export const UploadFinishInputSchema = z
  .object({
    upload: UploadIdSchema,
    /** The sha256 of the whole file as the caller computed it (64 lowercase hex digits). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 (64 lowercase hex digits)'),
  })
  .strict();

export const UploadedFileSchema = z.object({
  /** The file on this machine, inside the app's uploads folder: what check, deploy and the kit methods take. */
  path: z.string(),
  /** The name it is stored under (the caller's name, made safe). */
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
});
export type UploadedFile = z.infer<typeof UploadedFileSchema>;
