import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { Output, type GlobalOptions } from '../../../cli/output.js';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

function make(opts: Partial<GlobalOptions> = {}, tty = true) {
  const stderr = new Capture(tty);
  const o = new Output({ json: false, quiet: false, verbose: false, color: false, progress: true, ...opts }, { stdout: new Capture(tty), stderr, env: {} });
  return { o, stderr };
}

describe('Output.live: the per-device table of a fleet deploy', () => {
  it('draws the lines, then redraws them in place (cursor up over the previous ones), at most 10 times a second', () => {
    vi.useFakeTimers();
    try {
      const { o, stderr } = make();
      const live = o.live();
      live.draw(['kit-a  connect', 'kit-b  connect']);
      expect(stderr.text).toBe('\u001b[2Kkit-a  connect\n\u001b[2Kkit-b  connect\n');
      live.draw(['kit-a  upload', 'kit-b  connect']); // within 100 ms: held back
      expect(stderr.text).not.toContain('upload');
      vi.advanceTimersByTime(150);
      live.draw(['kit-a  upload 50%', 'kit-b  ✔ done']);
      expect(stderr.text.endsWith('\u001b[2F\u001b[2Kkit-a  upload 50%\n\u001b[2Kkit-b  ✔ done\n')).toBe(true);
      live.draw(['kit-a  ✘ DEVICE_DISCONNECTED', 'kit-b  ✔ done']); // held back, then flushed by done()
      live.done();
      expect(stderr.text.endsWith('\u001b[2F\u001b[2Kkit-a  ✘ DEVICE_DISCONNECTED\n\u001b[2Kkit-b  ✔ done\n')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('draws nothing without a TTY, under --json, --quiet or --no-progress', () => {
    for (const [opts, tty] of [
      [{}, false],
      [{ json: true }, true],
      [{ quiet: true }, true],
      [{ progress: false }, true],
    ] as const) {
      const { o, stderr } = make(opts, tty);
      const live = o.live();
      live.draw(['kit-a  upload']);
      live.done();
      expect(stderr.text).toBe('');
    }
  });
});
