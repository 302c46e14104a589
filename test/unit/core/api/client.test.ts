import { describe, expect, it } from 'vitest';
import { ApiError, createClient, ipcTransport } from '../../../../core/api/client.js';

describe('api client', () => {
  it('returns values from ok envelopes', async () => {
    const client = createClient(async () => ({ ok: true, value: { version: '1', node: '20', platform: 'linux', arch: 'x64', demoKit: '/kit' } }));
    expect((await client.call('app.version', {})).version).toBe('1');
  });

  it('throws ApiError with code and hint from error envelopes', async () => {
    const client = createClient(async () => ({ ok: false, error: { code: 'USB_UNAVAILABLE', message: 'no usb', hint: 'h' } }));
    await expect(client.call('app.version', {})).rejects.toMatchObject({ name: 'ApiError', code: 'USB_UNAVAILABLE', hint: 'h' });
  });

  it('refuses malformed envelopes and values that break the contract', async () => {
    await expect(createClient(async () => 'garbage').call('app.version', {})).rejects.toBeInstanceOf(ApiError);
    await expect(createClient(async () => ({ ok: true, value: { version: 2 } })).call('app.version', {})).rejects.toThrow();
  });
});

describe('ipc transport (call protocol over the preload bridge)', () => {
  function fakeBridge() {
    const posted: Array<{ t: string; id: number; method?: string }> = [];
    let listener: (f: unknown) => void = () => {};
    return {
      posted,
      deliver: (f: unknown) => listener(f),
      bridge: {
        post: (f: unknown) => void posted.push(f as { t: string; id: number }),
        onFrame: (l: (f: unknown) => void) => {
          listener = l;
          return () => {};
        },
      },
    };
  }

  it('routes events and the result to the call by id', async () => {
    const b = fakeBridge();
    const client = createClient(ipcTransport(b.bridge));
    const events: unknown[] = [];
    const pending = client.call('cache.verify', {}, { onEvent: (e) => events.push(e) });
    await Promise.resolve();
    const id = b.posted[0]!.id;
    expect(b.posted[0]).toMatchObject({ t: 'call', method: 'cache.verify' });
    b.deliver({ t: 'event', id: id + 1, event: { type: 'progress', done: 99 } }); // another call's: ignored
    b.deliver({ t: 'event', id, event: { type: 'progress', task: 'verify', done: 1, total: 2 } });
    b.deliver({ t: 'result', id, envelope: { ok: true, value: { checked: 2, bytes: 10, corrupt: [], partials: 0 } } });
    expect((await pending).checked).toBe(2);
    expect(events).toEqual([{ type: 'progress', task: 'verify', done: 1, total: 2 }]);
  });

  it('abort sends a cancel frame and rejects with ABORTED at once; a late result is ignored', async () => {
    const b = fakeBridge();
    const client = createClient(ipcTransport(b.bridge));
    const controller = new AbortController();
    const pending = client.call('cache.verify', {}, { signal: controller.signal });
    await Promise.resolve();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    const id = b.posted[0]!.id;
    expect(b.posted[1]).toEqual({ t: 'cancel', id });
    b.deliver({ t: 'result', id, envelope: { ok: true, value: {} } });
  });

  it('a stopped api worker fails the calls still waiting', async () => {
    const b = fakeBridge();
    const client = createClient(ipcTransport(b.bridge));
    const pending = client.call('app.version', {});
    await Promise.resolve();
    b.deliver({ t: 'worker-exit' });
    await expect(pending).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
