import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Output, renderBar, formatBytes, type GlobalOptions } from '../../../cli/output.js';
import { FlightDeckError } from '../../../core/errors.js';
import { clearRegisteredSecrets, registerSecret } from '../../../core/credentials/redact.js';

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 80;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

function make(opts: Partial<GlobalOptions> = {}, tty = false) {
  const stdout = new Capture(tty);
  const stderr = new Capture(tty);
  const o = new Output({ json: false, quiet: false, verbose: false, color: true, progress: true, ...opts }, { stdout, stderr, env: {} });
  return { o, stdout, stderr };
}

afterEach(() => clearRegisteredSecrets());

describe('Output', () => {
  it('prints errors as error[CODE]: message plus the hint, and returns the exit code', () => {
    const { o, stderr } = make();
    const code = o.error(new FlightDeckError('REGISTRY_UNAUTHORIZED', 'registry.example refused the token.'));
    expect(code).toBe(5);
    expect(stderr.text).toBe(
      'error[REGISTRY_UNAUTHORIZED]: registry.example refused the token.\n  hint: Run `flightdeck login <registry>` or set FLIGHTDECK_REGISTRY_TOKEN.\n',
    );
  });

  it('under --json prints one JSON error document on stdout', () => {
    const { o, stdout, stderr } = make({ json: true });
    o.error(new Error('boom'));
    expect(JSON.parse(stdout.text)).toEqual({ error: { code: 'INTERNAL', message: 'Unexpected error: boom', hint: expect.any(String) } });
    expect(stderr.text).toBe('');
  });

  it('never prints a registered secret on any channel', () => {
    registerSecret('s3cr3t-token-value');
    const { o, stdout, stderr } = make({ verbose: true });
    o.result({ note: 'token s3cr3t-token-value' }, (v) => v.note);
    o.info('using s3cr3t-token-value');
    o.warn('bad s3cr3t-token-value');
    o.debug('Authorization: Bearer s3cr3t-token-value');
    o.error(new FlightDeckError('INTERNAL', 'failed with s3cr3t-token-value', { cause: new Error('s3cr3t-token-value') }));
    const j = make({ json: true });
    j.o.result({ token: 'plain', other: 's3cr3t-token-value' }, () => '');
    j.o.event({ event: 'log', message: 's3cr3t-token-value' });
    for (const text of [stdout.text, stderr.text, j.stdout.text, j.stderr.text]) expect(text).not.toContain('s3cr3t-token-value');
    expect(stderr.text).toContain('***');
  });

  it('--quiet keeps errors but drops results and messages', () => {
    const { o, stdout, stderr } = make({ quiet: true });
    o.result({ a: 1 }, () => 'result');
    o.info('info');
    o.error(new FlightDeckError('NOT_FOUND', 'gone'));
    expect(stdout.text).toBe('');
    expect(stderr.text).toContain('error[NOT_FOUND]');
    expect(stderr.text).not.toContain('info');
  });

  it('draws progress bars on a TTY, JSON progress lines under --json, nothing when piped or --no-progress', () => {
    const tty = make({}, true);
    const p = tty.o.progress('pull');
    p.update(50, 100, '1.0 MiB/s');
    p.finish('done');
    expect(tty.stderr.text).toContain('pull [');
    expect(tty.stderr.text).toContain(' 50%');
    expect(tty.stderr.text).toContain('✔');

    const json = make({ json: true });
    const pj = json.o.progress('pull');
    pj.update(100, 100);
    pj.finish();
    const lines = json.stderr.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { event: 'progress', task: 'pull', done: 100, total: 100 },
      { event: 'done', task: 'pull' },
    ]);

    for (const quiet of [make({}, false), make({ progress: false }, true)]) {
      const q = quiet.o.progress('pull');
      q.update(1, 2);
      q.finish();
      expect(quiet.stderr.text).toBe('');
    }
  });

  it('colours only on a TTY, never with --no-color or NO_COLOR', () => {
    const tty = make({}, true);
    tty.o.error(new FlightDeckError('NOT_FOUND', 'x'));
    expect(tty.stderr.text).toContain('\u001b[31m');
    const off = make({ color: false }, true);
    off.o.error(new FlightDeckError('NOT_FOUND', 'x'));
    expect(off.stderr.text).not.toContain('\u001b[');
    const stderr = new Capture(true);
    new Output({ json: false, quiet: false, verbose: false, color: true, progress: true }, { stdout: new Capture(true), stderr, env: { NO_COLOR: '1' } }).error(
      new FlightDeckError('NOT_FOUND', 'x'),
    );
    expect(stderr.text).not.toContain('\u001b[');
  });
});

describe('renderBar and formatBytes', () => {
  it('fits the bar to the terminal width and clamps the ratio', () => {
    expect(renderBar('pull', 150, 100, undefined, 40).length).toBeLessThanOrEqual(39);
    expect(renderBar('pull', 150, 100, undefined, 80)).toContain('100%');
    expect(renderBar('pull', 5, undefined, 'blobs', 80)).toBe('pull 5 blobs');
  });
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(256 * 1024 * 1024)).toBe('256 MiB');
  });
});
