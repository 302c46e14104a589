import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import type { DeployResultView, DeviceEntry, Output, Receipt } from '../../core/api/contract.js';
import type { CallOptions } from '../../core/api/client.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Devices } = await import('../../renderer/src/views/Devices.svelte');
const { default: Receipts } = await import('../../renderer/src/views/Receipts.svelte');

const SHA = 'c'.repeat(64);
const VITA: DeviceEntry = { kind: 'emulator', name: 'bench-vita', uri: 'tcp://127.0.0.1:7001', platform: 'vita' };
const VITA2: DeviceEntry = { kind: 'emulator', name: 'bench-vita-2', uri: 'tcp://127.0.0.1:7002', platform: 'vita' };
const DC: DeviceEntry = { kind: 'emulator', name: 'bench-dreamcast', uri: 'tcp://127.0.0.1:7003', platform: 'dreamcast' };

function result(device: string): DeployResultView {
  const state = { platform: 'vita', active: 'A' as const, slots: { A: { sha256: SHA, size: 2048 }, B: null }, upload: null };
  return {
    device,
    platform: 'vita',
    firmware: 'emu',
    payload: 'hello.wasm',
    sha256: SHA,
    size: 2048,
    slot: 'A',
    outcome: 'committed',
    transfer: 'full',
    resumedFrom: 0,
    retries: 0,
    wireBytes: 2100,
    seconds: 0.2,
    lineRate: 0,
    compression: 'none',
    findings: [],
    state,
  };
}
const MISMATCH = {
  code: 'DEVICE_PLATFORM_MISMATCH',
  message: 'bench-dreamcast is a dreamcast kit; the payload was checked for vita.',
  hint: 'Nothing was sent.',
};

function script(extra: Parameters<typeof fake.reset>[0] = {}) {
  fake.reset({
    'devices.list': () => ({ devices: [VITA, VITA2, DC], unavailable: [] }),
    'platforms.list': () => ({ platforms: [] }),
    'emulators.local': () => ({ emulator: null }),
    ...extra,
  });
}
const row = (container: HTMLElement, device: string) => container.querySelector<HTMLElement>(`[data-testid="fleet-table"] tr[data-device="${device}"]`)!;

async function fleetMode() {
  await screen.findByRole('button', { name: 'bench-vita' });
  await fireEvent.click(screen.getByRole('button', { name: 'Deploy to many' }));
  expect(screen.getByRole('button', { name: 'Deploy to many' }).getAttribute('aria-pressed')).toBe('true');
}

describe('Devices: deploy to many', () => {
  it('deploys to the ticked devices with a live row each: phase, bytes, then a result with the error code and hint', async () => {
    let finish!: () => void;
    script({
      'deploy.fleet': (_input, opts) => {
        const emit = (e: unknown) => (opts.onEvent as ((e: unknown) => void) | undefined)?.(e);
        emit({ type: 'phase', device: VITA.uri, phase: 'connect' });
        emit({ type: 'phase', device: VITA.uri, phase: 'upload' });
        emit({ type: 'progress', device: VITA.uri, phase: 'upload', done: 1024, total: 2048, resumedFrom: 0, retries: 0, wireBytes: 1100 });
        // An event that does not fit deploy.fleet's declared events never reaches the view.
        emit({ type: 'progress', device: VITA.uri, phase: 'upload', done: 'lots', total: 2048 });
        emit({ type: 'result', device: DC.uri, ok: false, code: MISMATCH.code, error: MISMATCH });
        return new Promise((resolve) => {
          finish = () => {
            emit({ type: 'progress', device: VITA.uri, phase: 'upload', done: 2048, total: 2048, resumedFrom: 0, retries: 0, wireBytes: 2100 });
            emit({ type: 'result', device: VITA.uri, ok: true });
            resolve({
              payload: 'hello.wasm',
              sha256: SHA,
              succeeded: 1,
              failed: 1,
              results: [
                { device: VITA.uri, ok: true, result: result(VITA.uri) },
                { device: DC.uri, ok: false, error: MISMATCH },
              ],
            });
          };
        });
      },
    });
    const { container } = render(Devices);
    await fleetMode();
    // The one-device panels give way to the fleet form; nothing to deploy to until a device is ticked.
    expect(screen.queryByLabelText('Run after commit')).toBeNull();
    expect((screen.getByRole('button', { name: 'Deploy to 0 devices' }) as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByLabelText('Deploy to bench-vita'));
    await fireEvent.click(screen.getByLabelText('Deploy to bench-dreamcast'));
    await fireEvent.input(screen.getByLabelText('Payload'), { target: { value: ' hello.wasm ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Deploy to 2 devices' }));

    expect(fake.calls.find((c) => c.method === 'deploy.fleet')?.input).toEqual({ payload: 'hello.wasm', devices: [VITA.uri, DC.uri], force: false });
    // Live: the Vita kit uploading, the Dreamcast kit already failed: its result event carries the full error.
    await waitFor(() => expect(row(container, VITA.uri).textContent).toContain('1 KiB / 2 KiB'));
    expect(row(container, VITA.uri).textContent).toContain('bench-vita');
    expect(row(container, VITA.uri).textContent).toContain('upload');
    expect(within(row(container, VITA.uri)).getByRole('progressbar', { name: 'Progress of bench-vita' }).getAttribute('aria-valuenow')).toBe('50');
    expect(row(container, DC.uri).textContent).toContain('DEVICE_PLATFORM_MISMATCH');
    expect(row(container, DC.uri).textContent).toContain('bench-dreamcast is a dreamcast kit');
    expect(row(container, DC.uri).textContent).toContain('Nothing was sent.');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();

    finish();
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('1 succeeded, 1 failed: hello.wasm');
    expect(row(container, VITA.uri).textContent).toContain('✓ committed, slot A');
    expect(row(container, VITA.uri).textContent).toContain('2 KiB / 2 KiB');
    // The output brings the same message and hint.
    expect(row(container, DC.uri).textContent).toContain('bench-dreamcast is a dreamcast kit');
    expect(row(container, DC.uri).textContent).toContain('Nothing was sent.');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('"All of platform" deploys to every kit of it (rows by name, as the api adds them); Cancel aborts with ABORTED', async () => {
    let seen: CallOptions | undefined;
    script({
      'deploy.fleet': (_input, opts) => {
        seen = opts;
        opts.onEvent?.({ type: 'phase', device: 'bench-vita', phase: 'upload' });
        return new Promise((_resolve, reject) =>
          opts.signal?.addEventListener('abort', () =>
            reject({ code: 'ABORTED', message: 'Fleet deploy cancelled; 0 device(s) had committed.', hint: 'Deploy again.' }),
          ),
        );
      },
    });
    const { container } = render(Devices);
    await fleetMode();
    await fireEvent.input(screen.getByLabelText('Payload'), { target: { value: 'oci:/kit:bundles/vita:latest' } });
    await fireEvent.input(screen.getByLabelText('Module (optional)'), { target: { value: 'flight-memory-validation' } });
    await fireEvent.change(screen.getByLabelText('All of platform'), { target: { value: 'vita' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Deploy to 2 devices' }));
    expect(fake.calls.find((c) => c.method === 'deploy.fleet')?.input).toEqual({
      payload: 'oci:/kit:bundles/vita:latest',
      module: 'flight-memory-validation',
      devices: [],
      allMatching: 'vita',
      force: false,
    });
    await waitFor(() => expect(row(container, 'bench-vita').textContent).toContain('upload'));
    expect(row(container, 'bench-vita-2').textContent).toContain('waiting');
    expect(container.querySelector('[data-testid="fleet-table"] tr[data-device="bench-dreamcast"]')).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(seen?.signal?.aborted).toBe(true);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('ABORTED');
    expect(alert.textContent).toContain('Deploy again.');
    expect(row(container, 'bench-vita-2').textContent).toContain('not finished');
  });
});

function receipt(id: string, device: DeviceEntry, over: Partial<Receipt> = {}): Output<'receipts.list'>['receipts'][number] {
  const r: Receipt & { file: string } = {
    schema: 'flightdeck.receipt/v1',
    id,
    time: '2026-11-26T07:00:00.000Z',
    tool: { name: 'flightdeck', version: '0.1.0' },
    operator: 'pilot',
    source: { reference: 'registry.lab/flight/bundles/vita:2026.11.01', manifestDigest: `sha256:${'d'.repeat(64)}` },
    kit: null,
    payload: { name: 'flight-memory-validation.wasm', sha256: SHA, size: 4096 },
    device: { uri: device.uri, name: device.name ?? null, platform: device.platform!, serial: 'EMU-0001', firmware: 'flightdeck-emulator 0.1.0' },
    reported: { slot: 'A', sha256: SHA, matches: true },
    outcome: 'committed',
    transfer: 'delta',
    session: null,
    exitCode: null,
    file: `/data/receipts/${id}.json`,
    ...over,
  };
  // As receipts.list derives them (core/deploy/receipts.ts).
  return { ...r, module: 'flight-memory-validation', reference: r.source ? `${r.source.reference}@${r.source.manifestDigest}` : null };
}

describe('Receipts view', () => {
  it('lists receipts with the short hashes and whether the device hash matches; filters by device; shows the whole chain', async () => {
    const all = [receipt('r2', VITA2, { reported: { slot: 'B', sha256: 'e'.repeat(64), matches: false }, source: null }), receipt('r1', VITA)];
    script({
      'receipts.list': (input) =>
        ({
          receipts: all.filter((r) => !(input as { device?: string }).device || r.device.uri === (input as { device?: string }).device),
        }) as Output<'receipts.list'>,
    });
    const { container } = render(Receipts);
    const table = await screen.findByTestId('receipts-table');
    await waitFor(() => expect(table.querySelectorAll('tr[data-receipt]').length).toBe(2));
    const r1 = table.querySelector<HTMLElement>('tr[data-receipt="r1"]')!;
    expect(r1.textContent).toContain('bench-vita');
    expect(r1.textContent).toContain('vita');
    expect(r1.textContent).toContain('cccccccccccc');
    expect(r1.textContent).toContain('✓ matches');
    expect(r1.textContent).toContain('registry.lab/flight/bundles/vita:2026.11.01');
    expect(r1.textContent).toContain('dddddddddddd');
    const r2 = table.querySelector<HTMLElement>('tr[data-receipt="r2"]')!;
    expect(r2.textContent).toContain('eeeeeeeeeeee');
    expect(r2.textContent).toContain('✗ differs');
    expect(r2.textContent).toContain('local file');

    await fireEvent.change(screen.getByLabelText('Device'), { target: { value: VITA.uri } });
    expect(fake.calls.filter((c) => c.method === 'receipts.list').at(-1)?.input).toEqual({ device: VITA.uri });
    await waitFor(() => expect(table.querySelectorAll('tr[data-receipt]').length).toBe(1));
    // The filter still offers every device seen.
    expect(screen.getByRole('option', { name: 'bench-vita-2' })).toBeTruthy();

    await fireEvent.click(within(table).getByRole('button'));
    const detail = await screen.findByTestId('receipt-detail');
    for (const text of [
      `sha256:${'d'.repeat(64)}`,
      'registry.lab/flight/bundles/vita:2026.11.01',
      SHA,
      'EMU-0001',
      'flightdeck-emulator 0.1.0',
      'pilot',
      'flightdeck 0.1.0',
      '/data/receipts/r1.json',
      'delta, committed',
    ]) {
      expect(detail.textContent).toContain(text);
    }
    expect(container.querySelector('[data-testid="receipt-detail"] .ok-text')?.textContent).toBe('yes');
  });

  it('an error of receipts.list is shown with its code and hint', async () => {
    script({ 'receipts.list': () => Promise.reject({ code: 'INTERNAL', message: 'boom', hint: 'report it' }) });
    render(Receipts);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('INTERNAL');
    expect(alert.textContent).toContain('report it');
  });
});
