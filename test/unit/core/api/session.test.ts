import { describe, expect, it } from 'vitest';
import { createCallSession } from '../../../../core/api/session.js';
import type { CallContext, Handlers } from '../../../../core/api/dispatch.js';
import type { CallFrame, HostFrame } from '../../../../core/api/protocol.js';
import { FlightDeckError } from '../../../../core/errors.js';

// Handlers stand in for core here: the session's job is framing, ids, events and cancellation.
function handlers(): Handlers {
  return {
    'app.version': async (_i: unknown, call: CallContext) => {
      call.emit({ type: 'progress', task: 'version', done: 1, total: 2, password: 'hunter2' });
      return { version: '1.2.3', node: 'v20', platform: 'linux', arch: 'x64', demoKit: '/kit' };
    },
    'cache.verify': (_i: unknown, call: CallContext) =>
      new Promise((_resolve, reject) => {
        call.signal?.addEventListener('abort', () => reject(new FlightDeckError('ABORTED', 'cancelled')));
      }),
  } as unknown as Handlers;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('call session (host side of the call protocol)', () => {
  it('streams events then exactly one result for a call, with secrets scrubbed from events', async () => {
    const frames: HostFrame[] = [];
    const s = createCallSession(handlers(), (f) => frames.push(f));
    s.receive({ t: 'call', id: 7, method: 'app.version', input: {} });
    await tick();
    expect(frames.map((f) => f.t)).toEqual(['event', 'result']);
    expect(frames[0]).toMatchObject({ id: 7, event: { type: 'progress', task: 'version', done: 1, total: 2 } });
    expect(JSON.stringify(frames)).not.toContain('hunter2');
    expect(frames[1]).toMatchObject({ id: 7, envelope: { ok: true, value: { version: '1.2.3' } } });
    expect(s.active).toBe(0);
  });

  it('cancel aborts the running call, which answers ABORTED', async () => {
    const frames: HostFrame[] = [];
    const s = createCallSession(handlers(), (f) => frames.push(f));
    s.receive({ t: 'call', id: 1, method: 'cache.verify', input: {} });
    await tick();
    expect(s.active).toBe(1);
    s.receive({ t: 'cancel', id: 1 });
    await tick();
    expect(frames).toEqual([{ t: 'result', id: 1, envelope: { ok: false, error: expect.objectContaining({ code: 'ABORTED' }) } }]);
  });

  it('close aborts every call and sends nothing more', async () => {
    const frames: HostFrame[] = [];
    const s = createCallSession(handlers(), (f) => frames.push(f));
    s.receive({ t: 'call', id: 1, method: 'cache.verify', input: {} });
    s.receive({ t: 'call', id: 2, method: 'cache.verify', input: {} });
    await tick();
    expect(s.active).toBe(2);
    s.close();
    await tick();
    expect(s.active).toBe(0);
    expect(frames).toEqual([]);
  });

  it('refuses malformed frames, duplicate ids, unknown methods and too many calls with coded errors', async () => {
    const frames: CallFrame[] = [];
    const s = createCallSession(handlers(), (f) => frames.push(f), { maxConcurrent: 1 });
    s.receive('nonsense');
    s.receive({ t: 'call', id: 3, method: 42 });
    s.receive({ t: 'call', id: 4, method: 'cache.verify', input: {} });
    s.receive({ t: 'call', id: 4, method: 'cache.verify', input: {} });
    s.receive({ t: 'call', id: 5, method: 'cache.verify', input: {} });
    s.receive({ t: 'call', id: 6, method: 'no.such', input: {} });
    await tick();
    const byId = new Map(frames.map((f) => [f.id, f]));
    expect(byId.get(3)).toMatchObject({ envelope: { ok: false, error: { code: 'INVALID_INPUT', message: 'Malformed api frame.' } } });
    expect(byId.get(4)).toMatchObject({ envelope: { ok: false, error: { message: expect.stringContaining('already running') } } });
    expect(byId.get(5)).toMatchObject({ envelope: { ok: false, error: { message: expect.stringContaining('Too many calls') } } });
    expect(byId.get(6)).toMatchObject({ envelope: { ok: false, error: { code: 'INVALID_INPUT' } } });
    expect(frames).toHaveLength(4);
    s.close();
  });
});
