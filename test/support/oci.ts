/** Helpers for OCI tests: temp dirs, random files, a store, blob listings. */
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OciLayout } from '../../core/oci/layout.js';

export function tempDir(prefix = 'fd-oci-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write `size` random bytes to dir/name; returns the path, bytes and digest. */
export function randomFile(dir: string, name: string, size: number): { path: string; bytes: Buffer; digest: string } {
  const bytes = randomBytes(size);
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { path: file, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

export async function newStore(): Promise<OciLayout> {
  return OciLayout.open(path.join(tempDir('fd-store-'), 'store'), { create: true });
}

/** Names under blobs/sha256 and ingest/ (what a failed pull must not leave behind). */
export function storeFiles(store: OciLayout): { blobs: string[]; ingest: string[] } {
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  return { blobs: list(path.join(store.root, 'blobs', 'sha256')), ingest: list(store.ingestDir()) };
}
