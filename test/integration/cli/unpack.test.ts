import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { tempDir } from '../../support/oci.js';
import { tarGz } from '../../support/tar.js';

// Runs the built CLI (dist/) against a real registry: `npm run build` first.
let registry: TestRegistry;
const dir = tempDir();

beforeAll(async () => {
  registry = await startRegistry();
  // The chain, made by GNU tar from real links on disk: a/b/z -> ../.., a/b/x -> z/../../.. .
  const src = path.join(dir, 'chain');
  mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(src, 'readme.txt'), 'hello\n');
  symlinkSync('../..', path.join(src, 'a', 'b', 'z'));
  symlinkSync('z/../../..', path.join(src, 'a', 'b', 'x'));
  execFileSync('tar', ['-czf', path.join(dir, 'chain.tar.gz'), '-C', src, '.']);
  // The same chain with a file written through it (GNU tar cannot make that from a disk).
  writeFileSync(
    path.join(dir, 'through.tar.gz'),
    tarGz([
      { name: 'a/b/z', type: '2', linkname: '../..' },
      { name: 'a/b/x', type: '2', linkname: 'z/../../..' },
      { name: 'a/b/x/escaped/file.txt', body: 'outside' },
    ]),
  );
});
afterAll(async () => {
  await registry?.stop();
});

describe('flightdeck pull --unpack refuses a symlink chain that leads outside', () => {
  const env = { FLIGHTDECK_HOME: tempHome() };

  it.each(['chain', 'through'])('%s.tar.gz: UNSAFE_PATH, nothing created inside or outside the output folder', async (name) => {
    const ref = `${registry.host}/flight/evil/${name}:1`;
    const push = await runCli(['push', ref, path.join(dir, `${name}.tar.gz`)], { env });
    expect(push.code, push.stderr).toBe(0);
    // out = box/deep/out: the chain resolves three levels above the temp folder, i.e. to `box`.
    const box = tempDir();
    mkdirSync(path.join(box, 'deep'));
    const out = path.join(box, 'deep', 'out');
    const r = await runCli(['pull', ref, '--output', out, '--unpack', '--json'], { env });
    expect(r.code, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe('UNSAFE_PATH');
    expect(doc.error.message).toContain('a/b/x');
    expect(readdirSync(box, { recursive: true })).toEqual(['deep']);
  });
});
