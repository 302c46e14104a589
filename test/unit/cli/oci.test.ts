import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { blobProgress, splitFileArg } from '../../../cli/commands/oci.js';
import { Output } from '../../../cli/output.js';

describe('push FILE[:mediatype]', () => {
  it('splits a media type off the file argument', () => {
    expect(splitFileArg('a.wasm:application/wasm')).toEqual({ path: 'a.wasm', mediaType: 'application/wasm' });
    expect(splitFileArg('dir/b.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip')).toEqual({
      path: 'dir/b.tar.gz',
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    });
    expect(splitFileArg('plain.json')).toEqual({ path: 'plain.json' });
    expect(splitFileArg('C:\\x\\y.wasm')).toEqual({ path: 'C:\\x\\y.wasm' });
  });
});

function output(json: boolean): { o: Output; text: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
  const stdout = new PassThrough();
  let text = '';
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const o = new Output({ json, quiet: false, verbose: false, color: false, progress: true }, { stdout, stderr, env: {} });
  return { o, text: () => text };
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('blob progress', () => {
  it('draws one TTY line with bytes, rate, ETA and each active blob', async () => {
    const { o, text } = output(false);
    const p = blobProgress(o, 'pull');
    p.emit({ type: 'progress', phase: 'start', digest: A, title: 'a.wasm', done: 0, total: 4 * 1024 * 1024 });
    p.emit({ type: 'progress', phase: 'start', digest: B, title: 'b.wasm', done: 0, total: 4 * 1024 * 1024 });
    await sleep(120);
    p.emit({ type: 'progress', phase: 'bytes', digest: A, title: 'a.wasm', done: 2 * 1024 * 1024, total: 4 * 1024 * 1024 });
    const line = text().split('\r').pop() ?? '';
    expect(line).toMatch(/pull \[#+-+\]\s+25%/);
    expect(line).toContain('2 MiB/8 MiB');
    expect(line).toMatch(/MiB\/s ETA \d+s/);
    expect(line).toContain('a.wasm 50%');
    expect(line).toContain('b.wasm 0%');
    p.finish();
    expect(text()).toContain('✔ pull 2 blob(s)');
  });

  it('emits per-blob JSON events with rate and ETA under --json', async () => {
    const { o, text } = output(true);
    const p = blobProgress(o, 'pull');
    p.emit({ type: 'progress', phase: 'start', digest: A, title: 'a.wasm', done: 0, total: 1000 });
    await sleep(30);
    p.emit({ type: 'progress', phase: 'bytes', digest: A, title: 'a.wasm', done: 500, total: 1000 });
    const events = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[1]).toMatchObject({ event: 'progress', task: 'pull', phase: 'bytes', digest: A, title: 'a.wasm', done: 500, total: 1000 });
    expect(events[1]?.rate).toBeGreaterThan(0);
    expect(events[1]?.eta).toEqual(expect.any(Number));
  });
});
