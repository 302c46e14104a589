/**
 * A minimal ustar writer for tests: it can build exactly the archives a safe reader must refuse
 * (`..` paths, absolute paths, links), which GNU tar refuses to create.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  body?: Uint8Array | string;
  /** '0' file (default), '2' symlink, '5' directory, ... */
  type?: string;
  linkname?: string;
}

function field(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

export function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : Buffer.from(e.body ?? new Uint8Array(0));
    const h = Buffer.alloc(512);
    field(h, 0, 100, e.name);
    field(h, 100, 8, '0000644\0');
    field(h, 108, 8, '0000000\0');
    field(h, 116, 8, '0000000\0');
    field(h, 124, 12, body.length.toString(8).padStart(11, '0') + '\0');
    field(h, 136, 12, '00000000000\0');
    field(h, 148, 8, '        ');
    field(h, 156, 1, e.type ?? '0');
    field(h, 157, 100, e.linkname ?? '');
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function tarGz(entries: TarEntry[]): Buffer {
  return gzipSync(tar(entries));
}
