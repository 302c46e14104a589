/**
 * Reading the PEM files a registry's settings name (CAs, client certificate and key), safely: these paths
 * come from config.json, which the app and the web host edit (Settings → Registries), so a path may name
 * any file the user can read (/etc/shadow, ~/.ssh/id_ed25519), a FIFO or a device (/dev/zero).
 *
 * - The file is opened without blocking and checked with fstat: only a regular file of at most
 *   MAX_PEM_BYTES is read, so a FIFO or device is refused instead of hanging or filling memory.
 * - Errors name the path and what is wrong with it (missing, a folder, no PEM block of the expected
 *   kind, OpenSSL's reason for refusing it) and never carry anything read from the file.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import tls from 'node:tls';

/** The most a CA bundle, certificate or key file may hold (Debian's system CA bundle is about 220 KB). */
export const MAX_PEM_BYTES = 1024 * 1024;

export type PemKind = 'CA' | 'certificate' | 'key';

/** Why a PEM file cannot be used, in words safe to show anywhere (no byte of the file's content). */
export class PemFileError extends Error {
  override readonly name = 'PemFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} ${reason}`);
  }
}

const LABEL: Record<PemKind, RegExp> = {
  CA: /-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/,
  certificate: /-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/,
  key: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
};

/** Read one PEM file of `kind`; throws PemFileError (content-free) when it cannot be used. */
export async function readPemFile(file: string, kind: PemKind): Promise<string> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PemFileError(
      file,
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${code ?? 'error'})`,
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new PemFileError(file, st.isDirectory() ? 'is a folder, not a file' : 'is not a regular file');
    if (st.size > MAX_PEM_BYTES) throw new PemFileError(file, `is larger than ${MAX_PEM_BYTES / 1024} KiB: not a PEM file`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    if (!LABEL[kind].test(text)) throw new PemFileError(file, kind === 'key' ? 'holds no PEM private key' : 'holds no PEM certificate');
    return text;
  } catch (err) {
    if (err instanceof PemFileError) throw err;
    throw new PemFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await fh.close();
  }
}

/**
 * Whether OpenSSL takes the material (a PEM block with a broken body passes readPemFile): the reason it
 * gives when not (`PEM routines::bad base64 decode`, `key values mismatch`), else undefined. OpenSSL's
 * reasons name the routine and never echo the input.
 */
export function tlsRefusal(material: { ca?: string[] | undefined; cert?: string | undefined; key?: string | undefined }): string | undefined {
  try {
    tls.createSecureContext({
      ...(material.ca?.length ? { ca: material.ca } : {}),
      ...(material.cert && material.key ? { cert: material.cert, key: material.key } : {}),
    });
    return undefined;
  } catch (err) {
    const e = err as { reason?: unknown; code?: unknown };
    return typeof e.reason === 'string' ? e.reason : typeof e.code === 'string' ? e.code : 'refused by OpenSSL';
  }
}
