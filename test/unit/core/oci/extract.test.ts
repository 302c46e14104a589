import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, lstatSync, symlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeRelative, writeOutputs } from '../../../../core/oci/extract.js';
import { MEDIA } from '../../../../core/oci/manifest.js';
import type { OciLayout } from '../../../../core/oci/layout.js';
import { newStore, tempDir } from '../../../support/oci.js';
import { tarGz, type TarEntry } from '../../../support/tar.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function layer(store: OciLayout, body: Buffer, title: string, mediaType: string = MEDIA.tarGzip) {
  await store.putBytes(sha(body), body);
  return { mediaType, digest: sha(body), size: body.length, annotations: { 'org.opencontainers.image.title': title } };
}

describe('pull --output', () => {
  it('writes files by title, keeps tar+gzip packed unless asked, unpacks safely on request', async () => {
    const store = await newStore();
    const archive = tarGz([
      { name: './', type: '5' },
      { name: 'wit/', type: '5' },
      { name: 'wit/types.wit', body: 'package flight:types;\n' },
      { name: 'current', type: '2', linkname: 'wit/types.wit' },
    ]);
    const layers = [await layer(store, archive, 'bundle.tar.gz'), await layer(store, Buffer.from('\0asm'), 'm.wasm', MEDIA.wasm)];
    const out = tempDir();
    const packed = await writeOutputs(store, layers, out, { unpack: false });
    expect(packed.map((f) => f.unpacked)).toEqual([false, false]);
    expect(readdirSync(out).sort()).toEqual(['bundle.tar.gz', 'm.wasm']);
    const out2 = tempDir();
    await writeOutputs(store, layers, out2, { unpack: true });
    expect(readFileSync(path.join(out2, 'bundle', 'wit', 'types.wit'), 'utf8')).toBe('package flight:types;\n');
    expect(lstatSync(path.join(out2, 'bundle', 'current')).isSymbolicLink()).toBe(true);
  });

  it.each<[string, TarEntry[]]>([
    ['an absolute path', [{ name: '/etc/evil', body: 'x' }]],
    ['`..`', [{ name: 'ok/../../evil', body: 'x' }]],
    ['a symlink escaping the folder', [{ name: 'link', type: '2', linkname: '../../outside' }]],
    ['an absolute symlink', [{ name: 'link', type: '2', linkname: '/etc/passwd' }]],
    [
      'writing through a link',
      [
        { name: 'dir', type: '2', linkname: '.' },
        { name: 'dir', body: 'x' },
      ],
    ],
    ['a hard link', [{ name: 'h', type: '1', linkname: 'etc/passwd' }]],
    ['a character device', [{ name: 'dev', type: '3' }]],
    ['a FIFO', [{ name: 'fifo', type: '6' }]],
  ])('refuses an archive with %s (UNSAFE_PATH) and writes nothing', async (_what, entries) => {
    const store = await newStore();
    const layers = [await layer(store, tarGz([{ name: 'first.txt', body: 'fine' }, ...entries]), 'evil.tar.gz')];
    const out = tempDir();
    await expect(writeOutputs(store, layers, out, { unpack: true })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(path.join(path.dirname(out), 'outside'))).toBe(false);
  });

  it('refuses unsafe titles before writing anything, and a title leading through an existing link', async () => {
    const store = await newStore();
    for (const title of ['/abs', '../up', 'a/../../b', 'C:\\win', '']) {
      expect(() => safeRelative(title)).toThrowError(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    }
    const out = tempDir();
    const good = await layer(store, Buffer.from('a'), 'good.txt', 'text/plain');
    const bad = await layer(store, Buffer.from('b'), '../bad.txt', 'text/plain');
    await expect(writeOutputs(store, [good, bad], out, { unpack: false })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(existsSync(path.join(out, 'good.txt'))).toBe(false);
    const out2 = tempDir();
    mkdirSync(path.join(out2, 'x'));
    symlinkSync(tempDir(), path.join(out2, 'x', 'elsewhere'));
    const viaLink = await layer(store, Buffer.from('c'), 'x/elsewhere/file.txt', 'text/plain');
    await expect(writeOutputs(store, [viaLink], out2, { unpack: false })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });
});

describe('pull --unpack: links resolved against the extracted tree', () => {
  /** out = sandbox/deep/out, so an escape three levels up from the temp folder lands in `sandbox`. */
  function sandbox() {
    const box = tempDir();
    const out = path.join(box, 'deep', 'out');
    mkdirSync(path.dirname(out));
    return { box, out };
  }
  const listAll = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

  it.each<[string, TarEntry[]]>([
    [
      'the chain a/b/z -> ../.., a/b/x -> z/../../.. (lexically inside, physically outside)',
      [
        { name: 'a/b/z', type: '2', linkname: '../..' },
        { name: 'a/b/x', type: '2', linkname: 'z/../../..' },
      ],
    ],
    [
      'the same chain with a file written through it',
      [
        { name: 'a/b/z', type: '2', linkname: '../..' },
        { name: 'a/b/x', type: '2', linkname: 'z/../../..' },
        { name: 'a/b/x/escaped/file.txt', body: 'outside' },
      ],
    ],
    [
      'the chain with its links in the other order (x first, while z does not exist yet)',
      [
        { name: 'a/b/x', type: '2', linkname: 'z/../../..' },
        { name: 'a/b/z', type: '2', linkname: '../..' },
      ],
    ],
    [
      'a directory replaced by a link later in the archive',
      [
        { name: 'd/', type: '5' },
        { name: 'd', type: '2', linkname: '../..' },
      ],
    ],
    [
      'a link replaced by a directory, then written through',
      [
        { name: 'd', type: '2', linkname: '.' },
        { name: 'd/', type: '5' },
      ],
    ],
    [
      'a link loop',
      [
        { name: 'p', type: '2', linkname: 'q/..' },
        { name: 'q', type: '2', linkname: 'p/..' },
      ],
    ],
    [
      'a link whose target walks up through a nested link',
      [
        { name: 'in/up', type: '2', linkname: '..' },
        { name: 'far', type: '2', linkname: 'in/up/..' },
      ],
    ],
  ])('refuses %s with UNSAFE_PATH before creating anything, inside or outside', async (_what, entries) => {
    const store = await newStore();
    const layers = [await layer(store, tarGz([{ name: 'first.txt', body: 'fine' }, ...entries, { name: 'last.txt', body: 'fine' }]), 'evil.tar.gz')];
    const { box, out } = sandbox();
    await expect(writeOutputs(store, layers, out, { unpack: true })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    // Nothing outside (the sandbox holds only the folder we made) and no output folder at all.
    expect(listAll(box)).toEqual(['deep']);
  });

  it('keeps links that stay inside, including ones through other links, and lays out the rest first', async () => {
    const store = await newStore();
    const layers = [
      await layer(
        store,
        tarGz([
          { name: 'lib/v1/data.txt', body: 'v1' },
          { name: 'lib/current', type: '2', linkname: 'v1' },
          { name: 'top', type: '2', linkname: 'lib/current/data.txt' },
          { name: 'lib/v1/back', type: '2', linkname: '../../top' },
        ]),
        'ok.tar.gz',
      ),
    ];
    const { out } = sandbox();
    await writeOutputs(store, layers, out, { unpack: true });
    expect(readFileSync(path.join(out, 'ok', 'top'), 'utf8')).toBe('v1');
    expect(readFileSync(path.join(out, 'ok', 'lib', 'v1', 'back'), 'utf8')).toBe('v1');
    expect(readdirSync(out)).toEqual(['ok']);
  });

  it('a refused second layer leaves the first one unwritten too (all or nothing)', async () => {
    const store = await newStore();
    const good = await layer(store, Buffer.from('good'), 'good.txt', 'text/plain');
    const bad = await layer(store, tarGz([{ name: 'x', type: '2', linkname: '../../..' }]), 'bad.tar.gz');
    const { box, out } = sandbox();
    mkdirSync(out);
    await expect(writeOutputs(store, [good, bad], out, { unpack: true })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(listAll(box)).toEqual(['deep', path.join('deep', 'out')]);
  });
});
