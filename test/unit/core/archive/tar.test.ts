import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
    for await (const e of tarEntries(
      chunks(
        tar([
          { name: 'big', body: 'x'.repeat(5000) },
          { name: 'next', body: 'y' },
        ]),
      ),
    ))
      names.push(e.path);
    expect(names).toEqual(['big', 'next']);
  });

  it('refuses truncation, a bad checksum and too many entries with the byte offset', async () => {
    const good = tar([
      { name: 'a', body: 'x'.repeat(1000) },
      { name: 'b', body: 'y' },
    ]);
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

/** A pax record `<len> key=value\n` with the right length. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let n = Buffer.byteLength(body) + 1;
  while (String(n).length + Buffer.byteLength(body) !== n) n++;
  return `${n}${body}`;
}

/** GNU tar's listing (C-quoted names, one a line) and exit status. */
function gnuList(file: string): { names: string[]; status: number } {
  const r = spawnSync('tar', ['--quoting-style=c', '-tf', file], { encoding: 'utf8' });
  return { names: r.stdout.split('\n').filter(Boolean), status: r.status ?? -1 };
}

/** Ours, in the same form: names JSON-quoted (the same escapes as C quoting for ASCII), or a refusal. */
async function ourList(buf: Buffer): Promise<{ names: string[]; refused: boolean }> {
  const names: string[] = [];
  try {
    for await (const e of tarEntries(chunks(buf))) names.push(JSON.stringify(e.path));
    return { names, refused: false };
  } catch (err) {
    if (!(err instanceof TarFormatError)) throw err;
    return { names, refused: true };
  }
}

describe('tarEntries against GNU tar (differential)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-tar-diff-'));
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'deep', 'a'.repeat(90), 'b'.repeat(90)), { recursive: true });
  writeFileSync(path.join(src, 'new\nline'), 'one');
  writeFileSync(path.join(src, 'tab\there\nand "quotes"\n'), 'two');
  writeFileSync(path.join(src, 'deep', 'a'.repeat(90), 'b'.repeat(90), `${'c'.repeat(120)}.txt`), 'three');
  symlinkSync(`${'t'.repeat(150)}\nwith newline`, path.join(src, 'long-link'));

  it.each(['pax', 'gnu', 'posix'])('lists a GNU tar --format=%s archive of newline and long names exactly as `tar --list` does', async (format) => {
    const file = path.join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', src, '.']);
    const gnu = gnuList(file);
    expect(gnu.status).toBe(0);
    const ours = await ourList(readFileSync(file));
    expect(ours).toEqual({ names: gnu.names, refused: false });
    expect(ours.names).toContain('"./new\\nline"');
    // The link target is read whole as well (pax linkpath or GNU `K` record).
    const links: string[] = [];
    for await (const e of tarEntries(chunks(readFileSync(file)))) if (e.type === '2') links.push(e.linkname);
    expect(links).toEqual([`${'t'.repeat(150)}\nwith newline`]);
  });

  it.each<[string, string]>([
    ['a newline inside a pax path (read by record length)', paxRecord('path', 'evil\nok')],
    ['trailing NUL padding after the last record', `${paxRecord('path', 'p')}\0\0\0`],
    ['a length past the end of the header', '99 path=x\n'],
    ['a length shorter than the record', '5 path=abcdef\n'],
    ['no length', 'path=x\n'],
    ['a length that misses the newline', '10 path=abc\n'],
    ['no equal sign', '9 pathx\n\n'],
    ['a non-numeric pax size', `${paxRecord('size', '12x')}`],
  ])('agrees with GNU tar on a pax header with %s: same names, or both refuse', async (_what, record) => {
    const file = path.join(dir, 'crafted.tar');
    const buf = tar([
      { name: 'PaxHeader', type: 'x', body: record },
      { name: 'plain', body: 'x' },
      { name: 'after', body: 'y' },
    ]);
    writeFileSync(file, buf);
    const gnu = gnuList(file);
    const ours = await ourList(buf);
    expect(ours.refused).toBe(gnu.status !== 0);
    if (!ours.refused) expect(ours.names).toEqual(gnu.names);
  });

  it('honours a pax size record over the header size, as GNU tar does', async () => {
    const body = 'z'.repeat(700);
    const buf = tar([
      { name: 'PaxHeader', type: 'x', body: paxRecord('size', '700') },
      { name: 'big', body },
    ]);
    // Zero the header's own size field (and fix its checksum) so only the pax record says 700.
    const h = buf.subarray(1024, 1536);
    h.write('00000000000\0', 124, 12, 'utf8');
    h.write('        ', 148, 8, 'utf8');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'utf8');
    const entries = await read(buf);
    expect(entries.map((e) => [e.path, e.size, e.text.length])).toEqual([['big', 700, 700]]);
    const file = path.join(dir, 'size.tar');
    writeFileSync(file, buf);
    expect(gnuList(file)).toEqual({ names: ['"big"'], status: 0 });
  });
});
