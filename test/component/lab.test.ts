import { describe, expect, it, vi } from 'vitest';
import { render, screen, fireEvent, within } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import type { CallOptions } from '../../core/api/client.js';
import type { LabDeviceStatus, LabStatusResult } from '../../core/lab/schema.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Lab } = await import('../../renderer/src/views/Lab.svelte');

const h = (c: string) => c.repeat(64);
const d = (c: string) => `sha256:${h(c)}`;
const ref = { file: '/lab/flightdeck.lab.yaml', lock: '/lab/flightdeck.lab.lock', lockDigest: d('e') };
const locked = { sha256: h('a'), file: 'wasm/flight-memory-validation.wasm', digest: d('b') };
const device = (name: string, state: LabDeviceStatus['state'], extra: Partial<LabDeviceStatus> = {}): LabDeviceStatus => ({
  name,
  platform: 'vita',
  uri: `tcp://127.0.0.1:70${name.length}`,
  state,
  locked,
  runs: null,
  error: null,
  serial: null,
  device: null,
  ...extra,
});
const statusOf = (devices: LabDeviceStatus[]): LabStatusResult => ({
  ...ref,
  devices,
  counts: {
    'in-sync': devices.filter((x) => x.state === 'in-sync').length,
    drifted: devices.filter((x) => x.state === 'drifted').length,
    offline: devices.filter((x) => x.state === 'offline').length,
    'unknown-device': devices.filter((x) => x.state === 'unknown-device').length,
  },
});
const runs = { sha256: h('c'), payload: 'hand.wasm', reference: null, receipt: 'r1', time: '2026-12-06T05:00:00.000Z', operator: 'alice', lockDigest: null };

describe('Lab screen', () => {
  it('shows each kit’s locked and actual payload, brings one drifted kit into sync with live progress, and shows a moved lock', async () => {
    let synced = false;
    fake.reset({
      'lab.status': () =>
        statusOf([
          device('vita-01', 'in-sync'),
          device('vita-02', synced ? 'in-sync' : 'drifted', synced ? {} : { runs }),
          device('dc-bench', 'offline', { platform: 'dreamcast', error: { code: 'DEVICE_NOT_FOUND', message: 'Cannot connect', hint: 'Check the cable' } }),
        ]),
      'lab.deploy': (_input: unknown, opts: CallOptions) => {
        opts.onEvent?.({ type: 'phase', device: 'vita-02', phase: 'upload' });
        opts.onEvent?.({ type: 'progress', phase: 'upload', device: 'vita-02', done: 50, total: 100, resumedFrom: 0, retries: 0, wireBytes: 50 });
        opts.onEvent?.({ type: 'result', device: 'vita-02', ok: true });
        synced = true;
        return { ...ref, skipped: [], results: [{ device: 'vita-02', ok: true }], succeeded: 1, failed: 0 };
      },
      'lab.lock': () => ({
        ...ref,
        changed: true,
        moved: [{ platform: 'vita', from: d('b'), to: d('f') }],
        content: { schema: 'flightdeck.lab-lock/v1', source: 'oci:kit', bundles: {} },
      }),
    });
    render(Lab);
    const table = await screen.findByTestId('lab-table');
    const row = (name: string) => table.querySelector<HTMLElement>(`tr[data-device="${name}"]`)!;
    await vi.waitFor(() => expect(row('vita-02')).not.toBeNull());
    expect(row('vita-01').dataset.state).toBe('in-sync');
    expect(row('vita-02').dataset.state).toBe('drifted');
    expect(row('vita-02').textContent).toContain('cccccccccccc');
    expect(row('vita-02').textContent).toContain('hand.wasm, alice');
    expect(row('dc-bench').textContent).toContain('DEVICE_NOT_FOUND: Cannot connect');
    expect(within(row('vita-01')).queryByRole('button', { name: 'Bring into sync' })).toBeNull();

    await fireEvent.click(within(row('vita-02')).getByRole('button', { name: 'Bring into sync' }));
    await vi.waitFor(() => expect(row('vita-02').dataset.state).toBe('in-sync'));
    expect(fake.calls.find((c) => c.method === 'lab.deploy')?.input).toEqual({ lab: 'flightdeck.lab.yaml', devices: ['vita-02'] });
    expect(row('vita-02').textContent).toContain('✔ done');

    await fireEvent.click(screen.getByRole('button', { name: 'Lock again' }));
    const diff = await screen.findByTestId('lab-lock-diff');
    expect(diff.textContent).toContain('vita moved: bbbbbbbbbbbb → ffffffffffff');
  });

  it('shows the coded error of a bad lab file', async () => {
    fake.reset({
      'lab.status': () => {
        throw { code: 'LAB_INVALID', message: '/lab/flightdeck.lab.yaml:8: devices[1].name: duplicate device name "vita-01"', hint: 'Fix the line' };
      },
    });
    render(Lab);
    expect(await screen.findByText(/duplicate device name/)).toBeTruthy();
  });
});
