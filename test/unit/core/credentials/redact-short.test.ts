// Secrets shorter than 4 characters are redacted too (issue 15, item 11), on every output channel the
// redaction module serves: text (logs, human output, error messages and causes), JSON values (--json
// output and events, api envelopes over IPC and the web host, session events).
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, redact, redactValue, registerSecret } from '../../../../core/credentials/redact.js';
import { Output, type GlobalOptions } from '../../../../cli/output.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { dispatch, type CallContext, type Handlers } from '../../../../core/api/dispatch.js';
import { METHODS } from '../../../../core/api/contract.js';
import { createCallSession } from '../../../../core/api/session.js';
import type { HostFrame } from '../../../../core/api/protocol.js';

afterEach(() => clearRegisteredSecrets());

const SHORT = ['Q', 'z9', 'p@!'];

class Capture extends Writable {
  text = '';
  isTTY = true;
  columns = 200;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

function leaks(text: string): string[] {
  // Each secret as a whole token: where it would identify the secret in output.
  return SHORT.filter((s) => new RegExp(`(?<![A-Za-z0-9])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(text));
}

describe('short secrets (1 to 3 characters)', () => {
  it('are redacted where they stand as a token, not inside longer words', () => {
    for (const s of SHORT) registerSecret(s);
    expect(redact('user:z9@reg.example password Q, "p@!"')).toBe('user:***@reg.example password ***, "***"');
    // Not inside a longer run of letters and digits: ordinary text keeps its words.
    expect(redact('Quiet z9x Qz9 q')).toBe('Quiet z9x Qz9 q');
    expect(redactValue({ a: ['Q'], b: { c: 'login z9 failed' }, d: 'QUICK' })).toEqual({ a: ['***'], b: { c: 'login *** failed' }, d: 'QUICK' });
  });

  it('never reach CLI output: human, JSON, events, progress, errors and their causes', () => {
    for (const s of SHORT) registerSecret(s);
    const opts: GlobalOptions = { json: false, quiet: false, verbose: true, color: false, progress: true };
    const human = { stdout: new Capture(), stderr: new Capture() };
    const o = new Output(opts, { ...human, env: {} });
    o.result({ note: 'pw z9' }, (v) => v.note);
    o.info('using Q');
    o.warn('bad p@!');
    o.debug('secret z9');
    const bar = o.progress('pull');
    bar.update(1, 2, 'blob Q');
    bar.finish('done z9');
    o.error(new FlightDeckError('REGISTRY_UNAUTHORIZED', 'refused z9', { cause: new Error('cause p@!') }));
    const json = { stdout: new Capture(), stderr: new Capture() };
    const j = new Output({ ...opts, json: true }, { ...json, env: {} });
    j.result({ other: 'Q', list: ['p@!'] }, () => '');
    j.event({ event: 'log', message: 'z9' });
    j.error(new FlightDeckError('INTERNAL', 'failed Q'));
    for (const text of [human.stdout.text, human.stderr.text, json.stdout.text, json.stderr.text]) expect(leaks(text), text).toEqual([]);
    expect(human.stderr.text).toContain('***');
  });

  it('never reach api envelopes (IPC, web host) or session events', async () => {
    for (const s of SHORT) registerSecret(s);
    const unused = Object.fromEntries(METHODS.map((m) => [m, async () => Promise.reject(new Error('unused'))])) as unknown as Handlers;
    const ok = await dispatch(
      { ...unused, 'app.version': async () => ({ version: 'z9', node: 'Q', platform: 'linux', arch: 'x64', demoKit: '/kit/p@!' }) },
      'app.version',
      {},
    );
    expect(leaks(JSON.stringify(ok))).toEqual([]);
    const failed = await dispatch(
      { ...unused, 'app.version': async () => Promise.reject(new FlightDeckError('REGISTRY_UNAUTHORIZED', 'password z9 refused', { details: { user: 'Q' } })) },
      'app.version',
      {},
    );
    expect(leaks(JSON.stringify(failed))).toEqual([]);
    const frames: HostFrame[] = [];
    const session = createCallSession(
      {
        ...unused,
        'app.version': async (_i: unknown, call: CallContext) => {
          call.emit({ type: 'progress', task: 'p@!', detail: 'z9' });
          return { version: '1', node: 'v20', platform: 'linux', arch: 'x64', demoKit: '/kit' };
        },
      } as unknown as Handlers,
      (f) => frames.push(f),
    );
    const done = new Promise<void>((resolve) => {
      const check = () => (frames.some((f) => f.t === 'result') ? resolve() : setImmediate(check));
      check();
    });
    session.receive({ t: 'call', id: 1, method: 'app.version', input: {} });
    await done;
    expect(frames.map((f) => f.t)).toEqual(['event', 'result']);
    expect(leaks(JSON.stringify(frames))).toEqual([]);
  });
});
