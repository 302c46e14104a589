import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../core/errors.js';

/** Write a file so readers see the old content or the whole new one: temp file, fsync, rename. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw new FlightDeckError('IO_ERROR', `Cannot write ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
  // Make the rename itself durable where the platform allows opening a directory.
  const dh = await open(dir, 'r').catch(() => undefined);
  await dh?.sync().catch(() => {});
  await dh?.close();
}
