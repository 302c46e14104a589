import { createClient, type CallOptions } from '../../core/api/client.js';
import type { Method } from '../../core/api/contract.js';

/**
 * The renderer's api module, replaced in component tests: a real client (contract validation of every
 * answer) over a scripted transport that records calls.
 */
export type Script = Partial<Record<Method, (input: unknown, opts: CallOptions) => Promise<unknown> | unknown>>;

export const fake = {
  script: {} as Script,
  calls: [] as Array<{ method: Method; input: unknown; opts: CallOptions }>,
  reset(script: Script) {
    this.script = script;
    this.calls = [];
  },
};

export const api = createClient(async (method, input, opts = {}) => {
  fake.calls.push({ method, input, opts });
  const handler = fake.script[method];
  if (!handler) return { ok: false, error: { code: 'NOT_FOUND', message: `no fake for ${method}`, hint: 'test setup' } };
  try {
    return { ok: true, value: await handler(input, opts) };
  } catch (err) {
    return { ok: false, error: err };
  }
});
export const shell = 'browser';
export const reveal = undefined;
/** The desktop file dialog: absent, as in a browser (a test of the desktop window mocks it). */
export const openFile: ((kind: 'payload' | 'kit') => Promise<string | null>) | undefined = undefined;
