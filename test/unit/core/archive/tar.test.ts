import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAR_LIMITS, TarFormatError, gunzipLimited, tarEntries, type TarEntry } from '../../../../core/archive/tar.js';
import { tar } from '../../../support/tar.js';

async function* chunks(buf: Buffer, size = 700): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function read(buf: Buffer, limits = DEFAULT_TAR_LIMITS): Promise<Array<Omit<TarEntry, 'body'> & { text: string }>> {
  const out = [];
  for await (const e of tarEntries(chunks(buf), limits)) {
    let text = '';
    for await (const c of e.body) text += c.toString();
    const { body: _body, ...rest } = e;
    out.push({ ...rest, text });
  }
  return out;
}

describe('tarEntries', () => {
  it('reads files, directories and links in order, with pax and GNU long names applied', async () => {
    const long = `${'d/'.repeat(60)}long.txt`;
    const entries = await read(
      tar([
        { name: 'dir/', type: '5' },
        { name: 'dir/a.txt', body: 'alpha' },
        { name: '././@LongLink', type: 'L', body: `${long}\0` },
        { name: 'truncated-name', body: 'beta' },
        { name: 'PaxHeader', type: 'x', body: '27 path=pax/named/file.txt\n' },
        { name: 'short', body: 'gamma' },
        { name: 'ln', type: '2', linkname: 'dir/a.txt' },
      ]),
    );
    expect(entries.map((e) => [e.path, e.type, e.text, e.linkname])).toEqual([
      ['dir/', '5', '', ''],
      ['dir/a.txt', '0', 'alpha', ''],
      [long, '0', 'beta', ''],
      ['pax/named/file.txt', '0', 'gamma', ''],
      ['ln', '2', '', 'dir/a.txt'],
    ]);
  });

  it('skips bodies the caller does not read', async () => {
    const names: string[] = [];
    for await (const e of tarEntries(chunks(tar([{ name: 'big', body: 'x'.repeat(5000) }, { name: 'next', body: 'y' }])))) names.push(e.path);
    expect(names).toEqual(['big', 'next']);
  });

  it('refuses truncation, a bad checksum and too many entries with the byte offset', async () => {
    const good = tar([{ name: 'a', body: 'x'.repeat(1000) }, { name: 'b', body: 'y' }]);
    await expect(read(good.subarray(0, 700))).rejects.toMatchObject({ name: 'TarFormatError', message: expect.stringContaining('truncated') });
    const bad = Buffer.from(good);
    bad[1536 + 3] = bad[1536 + 3]! ^ 0xff; // second header
    await expect(read(bad)).rejects.toMatchObject({ message: 'tar header checksum mismatch', offset: 1536 });
    await expect(read(good, { ...DEFAULT_TAR_LIMITS, maxEntries: 1 })).rejects.toBeInstanceOf(TarFormatError);
  });
});

describe('gunzipLimited', () => {
  it('passes ordinary archives and stops bombs by size and ratio', async () => {
    const collect = async (gz: Buffer, limits = DEFAULT_TAR_LIMITS) => {
      let n = 0;
      for await (const c of gunzipLimited(chunks(gz, 4096), limits)) n += c.length;
      return n;
    };
    expect(await collect(gzipSync(Buffer.from('hello')))).toBe(5);
    const zeros = gzipSync(Buffer.alloc(32 * 1024 * 1024));
    await expect(collect(zeros)).rejects.toThrow(/compression ratio above 200:1/);
    await expect(collect(zeros, { ...DEFAULT_TAR_LIMITS, maxRatio: 1e9, maxUnpackedBytes: 1024 * 1024 })).rejects.toThrow(/unpacks to more than 1048576 bytes/);
    await expect(collect(Buffer.from('not gzip at all'))).rejects.toThrow(/not a valid gzip stream/);
  });
});
