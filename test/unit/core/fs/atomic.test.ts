import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../../core/fs/atomic.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'fd-atomic-'));

describe('writeFileAtomic', () => {
  it('creates and replaces a file whole, leaving no temp file', async () => {
    const d = dir();
    const f = path.join(d, 'report.json');
    await writeFileAtomic(f, '{"v":1}');
    writeFileSync(path.join(d, 'other'), 'x');
    await writeFileAtomic(f, Buffer.from('{"v":2}'));
    expect(readFileSync(f, 'utf8')).toBe('{"v":2}');
    expect(readdirSync(d).sort()).toEqual(['other', 'report.json']);
  });

  it('throws the file-system error and leaves neither a temp file nor a change when the rename fails', async () => {
    const d = dir();
    const target = path.join(d, 'taken');
    mkdirSync(path.join(target, 'child'), { recursive: true }); // a non-empty directory cannot be replaced by a file
    await expect(writeFileAtomic(target, 'data')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(readdirSync(d)).toEqual(['taken']);
    await expect(writeFileAtomic(path.join(d, 'missing', 'f'), 'data')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
