import { describe, expect, it } from 'vitest';
import { createClient } from '../../../../core/api/client.js';
import { contract, eventSchema, METHODS, type EventOf } from '../../../../core/api/contract.js';
import { HostFrameSchema } from '../../../../core/api/protocol.js';
import type { CallContext, Handlers } from '../../../../core/api/dispatch.js';

// Issue 16: events and errors are part of the contract. A method that streams declares its events; the
// handler's emit is typed by them, the client checks them like answers, and a failed device's result event
// carries the full error object (code, message, hint).
describe('events in the contract', () => {
  it('the deploy, check, kit-verify and cache-verify calls declare their events', () => {
    for (const m of ['deploy.run', 'deploy.fleet', 'device.monitor'] as const) expect(eventSchema(m), m).toBeDefined();
    expect(eventSchema('app.version')).toBeUndefined();
    expect(METHODS.filter((m) => 'events' in contract[m]).sort()).toEqual([
      'cache.verify',
      'deploy.fleet',
      'deploy.run',
      'device.monitor',
      'kit.build',
      'kit.import',
      'kit.verify',
      'registry.pull',
      'registry.push',
      'wasm.check',
      'wasm.inspect',
    ]);
  });

  it('progress events name their task: a check reports check progress, not another task’s', () => {
    const events = contract['wasm.check'].events;
    expect(events.parse({ type: 'progress', task: 'check', done: 1, detail: 'a.wasm' })).toEqual({
      type: 'progress',
      task: 'check',
      done: 1,
      detail: 'a.wasm',
    });
    expect(events.safeParse({ type: 'progress', task: 'blob', done: 1 }).success).toBe(false);
    expect(contract['cache.verify'].events.safeParse({ type: 'progress', task: 'verify', done: 1, total: 2 }).success).toBe(true);
  });

  it('a fleet result event carries the full error object', () => {
    const error = { code: 'DEVICE_PLATFORM_MISMATCH', message: 'a dreamcast kit', hint: 'Pick the payload built for it.' };
    const parsed = contract['deploy.fleet'].events.parse({ type: 'result', device: 'tcp://127.0.0.1:1', ok: false, code: error.code, error });
    expect(parsed).toEqual({ type: 'result', device: 'tcp://127.0.0.1:1', ok: false, code: error.code, error });
    expect(contract['deploy.fleet'].events.safeParse({ type: 'result', device: 'x', ok: false, error: { code: 'X' } }).success).toBe(false);
  });

  it('the client hands on only events that fit the method’s declared schema, parsed', async () => {
    const seen: Array<EventOf<'deploy.fleet'>> = [];
    const client = createClient(async (_method, _input, opts) => {
      const emit = opts?.onEvent as (e: unknown) => void;
      emit({ type: 'phase', device: 'kit-1', phase: 'upload' });
      emit({ type: 'progress', device: 'kit-1', phase: 'upload', done: 'lots', total: 2 });
      emit({ type: 'phase', phase: 'upload' }); // no device: not a fleet event
      emit({ type: 'progress', device: 'kit-1', phase: 'upload', done: 1, total: 2, resumedFrom: 0, retries: 0, wireBytes: 3, extra: 'dropped' });
      return { ok: true, value: { payload: 'p.wasm', sha256: 'c'.repeat(64), results: [], succeeded: 0, failed: 0 } };
    });
    await client.call('deploy.fleet', { payload: 'p.wasm', devices: ['kit-1'] }, { onEvent: (e) => seen.push(e) });
    expect(seen).toEqual([
      { type: 'phase', device: 'kit-1', phase: 'upload' },
      { type: 'progress', device: 'kit-1', phase: 'upload', done: 1, total: 2, resumedFrom: 0, retries: 0, wireBytes: 3 },
    ]);
  });

  it('a method without declared events passes any api event through', async () => {
    const seen: unknown[] = [];
    const client = createClient(async (_method, _input, opts) => {
      opts?.onEvent?.({ type: 'progress', task: 'anything', done: 1, total: 2 });
      return { ok: true, value: { registry: 'reg.example', kind: 'tags', items: [] } };
    });
    await client.call('registry.list', { target: 'reg.example/a' }, { onEvent: (e) => seen.push(e) });
    expect(seen).toEqual([{ type: 'progress', task: 'anything', done: 1, total: 2 }]);
  });

  // The events registry.pull, registry.push and kit.build stream, as core/oci/pull.ts, push.ts, retry.ts
  // and core/kits/build.ts send them (core/oci/schema.ts).
  const digest = 'sha256:' + 'a'.repeat(64);
  const blob = { type: 'progress', task: 'blob', phase: 'bytes', digest, title: 'a.wasm', mediaType: 'application/wasm', done: 1, total: 2 } as const;
  const retry = {
    type: 'retry',
    registry: '127.0.0.1:5000',
    request: 'GET /v2/a/blobs/' + digest,
    reason: 'HTTP 503',
    attempt: 1,
    of: 12,
    waitMs: 250,
  } as const;

  it('pull, push and kit.build declare their blob, retry and plan events', () => {
    const pull = contract['registry.pull'].events;
    for (const phase of ['start', 'bytes', 'done', 'skipped', 'retry']) expect(pull.safeParse({ ...blob, phase }).success, phase).toBe(true);
    // A blob without a title (a config blob): pull.ts sends title undefined, JSON drops it.
    const { title: _t, ...untitled } = blob;
    expect(pull.parse(untitled)).toEqual(untitled);
    expect(pull.parse(retry)).toEqual(retry);
    expect(pull.safeParse({ type: 'plan', artifacts: 1, totalBytes: 1, downloadBytes: 1 }).success).toBe(false);

    const push = contract['registry.push'].events;
    for (const phase of ['exists', 'mounted', 'bytes', 'done'])
      expect(push.safeParse({ type: 'progress', task: 'push', phase, digest, title: 'a.wasm', done: 1, total: 2 }).success, phase).toBe(true);
    expect(push.parse(retry)).toEqual(retry);
    expect(push.safeParse(blob).success).toBe(false);

    const build = contract['kit.build'].events;
    expect(build.parse({ type: 'plan', artifacts: 3, totalBytes: 300, downloadBytes: 0 })).toEqual({
      type: 'plan',
      artifacts: 3,
      totalBytes: 300,
      downloadBytes: 0,
    });
    expect(build.parse(blob)).toEqual(blob);
  });

  it('the client drops a malformed pull event and hands on the rest, parsed', async () => {
    const seen: Array<EventOf<'registry.pull'>> = [];
    const client = createClient(async (_method, _input, opts) => {
      const emit = opts?.onEvent as (e: unknown) => void;
      emit({ ...blob, done: 'lots' });
      emit({ ...blob, digest: 'a' }); // not a digest
      emit({ ...blob, phase: 'teleported' });
      emit({ ...retry, attempt: '1' });
      emit({ type: 'progress', task: 'check', done: 1 }); // another method's event
      emit({ ...blob, extra: 'dropped' });
      emit(retry);
      return { ok: false, error: { code: 'ABORTED', message: 'cancelled', hint: 'h' } };
    });
    await client.call('registry.pull', { reference: 'reg.example/a:1' }, { onEvent: (e) => seen.push(e) }).catch(() => {});
    expect(seen).toEqual([blob, retry]);
    // Typed: a retry event's numbers are numbers, no String() needed.
    const r = seen[1];
    expect(r?.type === 'retry' ? `${r.reason}, retry ${r.attempt} of ${r.of}` : '').toBe('HTTP 503, retry 1 of 12');
  });

  it('emit is typed per method: a handler may emit only its declared events', () => {
    const fleet: Handlers['deploy.fleet'] = async (_input, call) => {
      call.emit({ type: 'result', device: 'kit-1', ok: false, error: { code: 'X', message: 'm', hint: 'h' } });
      // @ts-expect-error deploy.fleet events carry the device they belong to
      call.emit({ type: 'phase', phase: 'upload' });
      // @ts-expect-error an error object is whole: code, message and hint
      call.emit({ type: 'result', device: 'kit-1', ok: false, error: { code: 'X' } });
      // @ts-expect-error not an event deploy.fleet declares
      call.emit({ type: 'progress', task: 'blob', done: 1 });
      return { payload: 'p', sha256: 'c'.repeat(64), results: [], succeeded: 0, failed: 0 };
    };
    expect(typeof fleet).toBe('function');
  });

  it('emit is typed for registry.pull: blob and retry events only, whole', () => {
    const pull: Handlers['registry.pull'] = async (_input, call) => {
      call.emit(blob);
      call.emit(retry);
      // @ts-expect-error a blob event names its phase
      call.emit({ type: 'progress', task: 'blob', digest, mediaType: 'application/wasm', done: 1, total: 2 });
      // @ts-expect-error the push task is registry.push's
      call.emit({ type: 'progress', task: 'push', phase: 'bytes', digest, title: 'a', done: 1, total: 2 });
      // @ts-expect-error a retry's attempt is a number
      call.emit({ ...retry, attempt: '1' });
      // @ts-expect-error the plan is kit.build's
      call.emit({ type: 'plan', artifacts: 1, totalBytes: 1, downloadBytes: 1 });
      throw new Error('not run');
    };
    expect(typeof pull).toBe('function');
  });

  it('a helper typed for one method’s context cannot be handed another method’s (emit is a property, checked both ways)', () => {
    const pullHelper = (call: CallContext<'registry.pull'>) => call.emit(blob);
    const anyHelper = (call: CallContext) => call.emit({ type: 'progress', task: 'blob', done: 1 });
    const fleet: Handlers['deploy.fleet'] = async (_input, call) => {
      // @ts-expect-error deploy.fleet's context cannot emit registry.pull's blob events through a helper
      pullHelper(call);
      // @ts-expect-error a helper typed with the plain CallContext could emit any method's events
      anyHelper(call);
      return { payload: 'p', sha256: 'c'.repeat(64), results: [], succeeded: 0, failed: 0 };
    };
    expect(typeof fleet).toBe('function');
  });

  it('worker-exit is a frame of the call protocol (HostFrameSchema), nothing else rides on it', () => {
    expect(HostFrameSchema.safeParse({ t: 'worker-exit' }).success).toBe(true);
    expect(HostFrameSchema.safeParse({ t: 'worker-exit', id: 1, envelope: {} }).success).toBe(false);
  });
});
