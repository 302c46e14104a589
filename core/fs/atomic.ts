import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Write a file so readers see the old content or the whole new one: a temp file beside it, fsync,
 * rename, then fsync of the directory where the platform allows it. Throws the file-system error as is
 * (callers map it to their error code, e.g. ENOSPC → DISK_FULL); the temp file never stays behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await open(dir, 'r').catch(() => undefined);
  await dh?.sync().catch(() => {});
  await dh?.close();
}
