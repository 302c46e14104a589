import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { Task, blobProgress } from '../../renderer/src/lib/task.svelte.js';
import { Theme } from '../../renderer/src/lib/theme.svelte.js';
import { Nav } from '../../renderer/src/lib/nav.svelte.js';
import { ApiError } from '../../core/api/client.js';
import { contract, type BlobProgressEvent } from '../../core/api/contract.js';

describe('Task', () => {
  it('folds events into progress, keeps the value, and reports a coded error', async () => {
    const t = new Task<number>();
    const v = await t.run(async (o) => {
      o.onEvent?.({ type: 'progress', done: 3, total: 4 });
      expect(t.running).toBe(true);
      return 42;
    });
    flushSync();
    expect(v).toBe(42);
    expect(t.value).toBe(42);
    // A success is complete: its bar shows 100 % whatever the last event said.
    expect(t.progress).toEqual({ done: 4, total: 4 });
    expect(t.running).toBe(false);
    await t.run(async () => {
      throw new ApiError({ code: 'REGISTRY_UNREACHABLE', message: 'down', hint: 'check the host' });
    });
    expect(t.error).toEqual({ code: 'REGISTRY_UNREACHABLE', message: 'down', hint: 'check the host' });
  });

  it('a new run clears the last result and error at once; a list task keeps its value while it refreshes', async () => {
    const t = new Task<number>();
    await t.run(async () => 1);
    let during: { value: unknown; error: unknown } | undefined;
    await t.run(async () => {
      during = { value: t.value, error: t.error };
      throw new ApiError({ code: 'NOT_FOUND', message: 'gone', hint: 'h' });
    });
    expect(during).toEqual({ value: undefined, error: undefined });
    expect(t.value).toBeUndefined();
    await t.run(async () => {
      during = { value: t.value, error: t.error };
      return 2;
    });
    expect(during).toEqual({ value: undefined, error: undefined });
    expect(t.error).toBeUndefined();

    const list = new Task<number>(null, { keep: true });
    await list.run(async () => 1);
    await list.run(async () => {
      during = { value: list.value, error: list.error };
      return 2;
    });
    expect(during).toEqual({ value: 1, error: undefined });
  });

  it('cancel aborts the signal the call got', async () => {
    const t = new Task<void>();
    let signal: AbortSignal | undefined;
    const running = t.run((o) => {
      signal = o.signal;
      return new Promise((_r, reject) => o.signal?.addEventListener('abort', () => reject(new ApiError({ code: 'ABORTED', message: 'x', hint: 'y' }))));
    });
    t.cancel();
    await running;
    expect(signal?.aborted).toBe(true);
    expect(t.error?.code).toBe('ABORTED');
  });

  // The events are the ones registry.pull declares (core/oci/schema.ts): each parsed with the contract's
  // schema first, as the client does, so the fold sees only what the client would hand on.
  const pullEvent = (e: unknown) => contract['registry.pull'].events.parse(e);
  const blob = (hex: string, phase: BlobProgressEvent['phase'], done: number, total: number) =>
    pullEvent({ type: 'progress', task: 'blob', phase, digest: `sha256:${hex.repeat(64)}`, title: `${hex}.wasm`, mediaType: 'application/wasm', done, total });

  it('sums a pull’s bytes over blobs, last event per blob', () => {
    const p = blobProgress([blob('a', 'bytes', 10, 100), blob('b', 'start', 0, 50), blob('a', 'done', 100, 100)]);
    expect(p).toEqual({ done: 100, total: 150, detail: '2 blobs' });
  });

  it('shows a registry retry until bytes flow again', () => {
    const events = [
      blob('a', 'bytes', 10, 100),
      pullEvent({ type: 'retry', registry: '127.0.0.1:5000', request: 'GET /v2/x/blobs/a', reason: 'HTTP 503', attempt: 1, of: 4, waitMs: 250 }),
    ];
    expect(blobProgress(events)).toEqual({ done: 10, total: 100, detail: '1 blob · HTTP 503, retry 1 of 4' });
    expect(blobProgress([...events, blob('a', 'bytes', 20, 100)]).detail).toBe('1 blob');
  });

  it('a kit build’s plan event is no blob: the bar counts only blobs', () => {
    const plan = contract['kit.build'].events.parse({ type: 'plan', artifacts: 2, totalBytes: 150, downloadBytes: 50 });
    expect(blobProgress([plan, blob('a', 'skipped', 100, 100)])).toEqual({ done: 100, total: 100, detail: '1 blob' });
  });
});

describe('Theme and Nav', () => {
  it('applies and remembers dark/light, and clears the override for system', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const t = new Theme(storage);
    t.set('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(new Theme(storage).mode).toBe('dark');
    t.set('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it('hands a bundle to the Checks screen', () => {
    const n = new Nav();
    n.checkBundle('reg/repo:tag');
    expect(n.current).toBe('checks');
    expect(n.checkTarget).toBe('reg/repo:tag');
  });
});
