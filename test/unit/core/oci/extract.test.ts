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
    ['writing through a link', [{ name: 'dir', type: '2', linkname: '.' }, { name: 'dir', body: 'x' }]],
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
