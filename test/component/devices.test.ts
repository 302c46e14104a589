import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { platformEntry } from './fixtures.js';
import type { DeviceEntry, Output, PlatformEntry } from '../../core/api/contract.js';
import type { CallOptions } from '../../core/api/client.js';
import type { TimedEvent } from '../../renderer/src/lib/deploy-progress.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Devices } = await import('../../renderer/src/views/Devices.svelte');
const { deployProgress } = await import('../../renderer/src/lib/deploy-progress.js');

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const VITA: DeviceEntry = { kind: 'emulator', name: 'bench-vita', uri: 'tcp://127.0.0.1:7001', platform: 'vita' };
const KIT: DeviceEntry = {
  kind: 'serial',
  uri: 'serial:///dev/ttyUSB0?baud=115200',
  vendorId: '0403',
  productId: '6001',
  adapter: 'FTDI FT232R (Dreamcast coder cable)',
};

const platform = (id: string, name: string): PlatformEntry => platformEntry(id, name);

/** A kit's slots, as device.status reports them. */
function status(active: 'A' | 'B' | null, slots: { A?: string; B?: string }): Output<'device.status'> {
  const slot = (sha?: string) => (sha ? { sha256: sha, size: 2048 } : null);
  return {
    device: VITA.uri,
    info: {
      version: 1,
      platform: 'vita',
      memory: 448 << 20,
      threads: 3,
      slots: 2,
      maxFrame: 4096,
      compression: ['none'],
      lineRates: [],
      lineRate: 0,
      firmware: 'flightdeck-emulator 0.1.0',
    },
    state: { platform: 'vita', active, slots: { A: slot(slots.A), B: slot(slots.B) }, upload: null },
  };
}

function script(extra: Parameters<typeof fake.reset>[0] = {}, devices: () => DeviceEntry[] = () => [VITA]) {
  fake.reset({
    'devices.list': () => ({
      devices: devices(),
      unavailable: [{ source: 'usb', code: 'USB_UNAVAILABLE', message: 'libusb did not load.', hint: 'Install libusb.' }],
    }),
    'platforms.list': () => ({ platforms: [platform('dreamcast', 'Sega Dreamcast'), platform('vita', 'PlayStation Vita')] }),
    'emulators.local': () => ({ emulator: null }),
    'device.status': () => status('A', { A: SHA_A }),
    ...extra,
  });
}
const count = (method: string) => fake.calls.filter((c) => c.method === method).length;

async function openVita() {
  await fireEvent.click(await screen.findByRole('button', { name: 'bench-vita' }));
  await screen.findByTestId('slots');
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.useRealTimers());

describe('deployProgress', () => {
  it('folds phase and upload events into bytes, phase, measured rate, ETA and retries', () => {
    const events: TimedEvent[] = [
      { type: 'phase', phase: 'connect', at: 500 },
      { type: 'phase', phase: 'upload', at: 900 },
      { type: 'progress', phase: 'upload', done: 0, total: 4096, resumedFrom: 0, retries: 0, wireBytes: 0, at: 1000 },
      { type: 'progress', phase: 'upload', done: 1024, total: 4096, resumedFrom: 0, retries: 2, wireBytes: 1100, at: 2000 },
    ];
    expect(deployProgress(events.slice(0, 1))).toEqual({ done: 0, total: 0, detail: 'connect' });
    expect(deployProgress(events)).toEqual({ done: 1024, total: 4096, detail: 'upload · 1 KiB/s · ETA 3 s · 2 retries' });
    // A rate the device reports wins; after the upload there is no ETA.
    expect(
      deployProgress([
        ...events,
        { type: 'progress', phase: 'upload', done: 4096, total: 4096, resumedFrom: 0, retries: 2, wireBytes: 4400, rate: 2048, at: 2500 },
        { type: 'phase', phase: 'verify', at: 2600 },
      ]),
    ).toEqual({
      done: 4096,
      total: 4096,
      detail: 'verify · 2 KiB/s · 2 retries',
    });
  });
});

describe('Devices view', () => {
  it('polls devices.list every 2 s while shown and visible: kits appear and disappear; stops when unmounted', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let devices = [VITA];
    script({}, () => devices);
    const { container, unmount } = render(Devices);
    expect(await screen.findByRole('button', { name: 'bench-vita' })).toBeTruthy();
    expect(container.textContent).toContain('USB_UNAVAILABLE');

    devices = [VITA, KIT];
    vi.advanceTimersByTime(2000);
    await waitFor(() => expect(container.querySelector(`tr[data-uri="${KIT.uri}"]`)?.textContent).toContain('FTDI FT232R (Dreamcast coder cable)'));

    devices = [KIT];
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    const before = count('devices.list');
    vi.advanceTimersByTime(4000);
    expect(count('devices.list')).toBe(before); // a hidden window does not poll
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(container.querySelector(`tr[data-uri="${VITA.uri}"]`)).toBeNull());

    unmount();
    const after = count('devices.list');
    vi.advanceTimersByTime(10_000);
    expect(count('devices.list')).toBe(after);
  });

  it('starts the local emulator on the chosen platform, then lists and opens it', async () => {
    const local = { uri: 'tcp://127.0.0.1:40000', platform: 'dreamcast', name: 'local-dreamcast', stateDir: '/data/emulators/local-dreamcast' };
    let running = false;
    script({ 'emulators.start': () => ((running = true), local) }, () =>
      running ? [{ kind: 'emulator', uri: local.uri, name: local.name, platform: 'dreamcast' }] : [],
    );
    render(Devices);
    await screen.findByRole('option', { name: 'Sega Dreamcast' });
    await fireEvent.change(screen.getByLabelText('Platform'), { target: { value: 'dreamcast' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Start local emulator' }));
    expect(await screen.findByText(/Running/)).toBeTruthy();
    expect(fake.calls.find((c) => c.method === 'emulators.start')?.input).toEqual({ platform: 'dreamcast' });
    await waitFor(() => expect(screen.getByRole('button', { name: 'local-dreamcast' }).getAttribute('aria-current')).toBe('true'));
    await waitFor(() => expect(fake.calls.some((c) => c.method === 'device.status' && (c.input as { device: string }).device === local.uri)).toBe(true));
  });

  it('deploys with the form values, shows progress and the run output, then refreshes the slots', async () => {
    let active = status('A', { A: SHA_A });
    script({
      'device.status': () => active,
      'deploy.run': (input, opts) => {
        opts.onEvent?.({ type: 'phase', phase: 'upload' });
        opts.onEvent?.({ type: 'progress', phase: 'upload', done: 2048, total: 2048, retries: 1, resumedFrom: 0, wireBytes: 2100 });
        opts.onEvent?.({ type: 'phase', phase: 'run' });
        opts.onEvent?.({ type: 'log', stream: 'stdout', text: 'hello from the kit\n' });
        active = status('B', { A: SHA_A, B: SHA_B });
        return {
          device: VITA.uri,
          platform: 'vita',
          firmware: 'flightdeck-emulator 0.1.0',
          payload: String((input as { payload: string }).payload),
          sha256: SHA_B,
          size: 2048,
          slot: 'B',
          outcome: 'committed',
          transfer: 'full',
          resumedFrom: 0,
          retries: 1,
          wireBytes: 2100,
          seconds: 0.4,
          lineRate: 0,
          compression: 'deflate',
          findings: [],
          state: active.state,
          exitCode: 0,
        };
      },
    });
    const { container } = render(Devices);
    await openVita();
    await fireEvent.input(screen.getByLabelText('Payload'), { target: { value: 'oci:/kit:flight/shared-types/bundles/vita:latest' } });
    await fireEvent.input(screen.getByLabelText('Module (optional)'), { target: { value: 'flight-memory-validation' } });
    await fireEvent.click(screen.getByLabelText('Deploy even if checks fail'));
    await fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    expect((await screen.findByText(/Committed to slot B/)).textContent).toContain('payload exited with code 0');
    expect(fake.calls.find((c) => c.method === 'deploy.run')?.input).toEqual({
      payload: 'oci:/kit:flight/shared-types/bundles/vita:latest',
      module: 'flight-memory-validation',
      device: VITA.uri,
      force: true,
      run: true,
    });
    expect(container.querySelector('.progress-text')?.textContent).toContain('2 KiB / 2 KiB · run · 1 retry');
    expect(screen.getByRole('log', { name: 'Kit log' }).textContent).toContain('stdout hello from the kit');
    await waitFor(() => expect(container.querySelector('tr[data-slot="B"]')?.textContent).toContain('active'));
    expect(container.querySelector('tr[data-slot="A"]')?.textContent).toContain('rollback target');
  });

  it('a refused payload shows its code, rule ids and hint; Cancel aborts a running deploy with ABORTED', async () => {
    let seen: CallOptions | undefined;
    let refuse = true;
    script({
      'deploy.run': (_input, opts) => {
        if (refuse)
          throw {
            code: 'PAYLOAD_CHECK_FAILED',
            message: 'x.wasm does not fit dreamcast; nothing was sent:\n  - [threads.unsupported] payload uses threads',
            hint: 'Deploy a bundle built for this platform.',
          };
        seen = opts;
        opts.onEvent?.({ type: 'phase', phase: 'upload' });
        return new Promise((_resolve, reject) =>
          opts.signal?.addEventListener('abort', () =>
            reject({ code: 'ABORTED', message: 'The operation was cancelled.', hint: 'Deploy again: the upload resumes.' }),
          ),
        );
      },
    });
    render(Devices);
    await openVita();
    await fireEvent.input(screen.getByLabelText('Payload'), { target: { value: 'x.wasm' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    const refused = await screen.findByRole('alert');
    expect(refused.textContent).toContain('PAYLOAD_CHECK_FAILED');
    expect(refused.textContent).toContain('[threads.unsupported]');
    expect(refused.textContent).toContain('Deploy a bundle built for this platform.');

    // The GUI's answer to a refusal is a button, not a flag; the new run clears the old refusal at once.
    refuse = false;
    await fireEvent.click(screen.getByRole('button', { name: 'Deploy anyway' }));
    await screen.findByRole('progressbar', { name: 'Deploy progress' });
    expect(fake.calls.filter((c) => c.method === 'deploy.run').at(-1)?.input).toMatchObject({ payload: 'x.wasm', force: true });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('deploy-bar').dataset.state).toBe('running');
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(seen?.signal?.aborted).toBe(true);
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('ABORTED'));
    expect(screen.getByRole('alert').textContent).toContain('Deploy again: the upload resumes.');
    // A failed run stops its bar where it was and colours it.
    expect(screen.getByTestId('deploy-bar').dataset.state).toBe('failed');
    expect(screen.getByTestId('deploy-bar').querySelector('li[data-state="failed"]')?.getAttribute('data-phase')).toBe('upload');
  });

  it('rolls back only after a confirming press, then shows the new active slot', async () => {
    let active = status('B', { A: SHA_A, B: SHA_B });
    script({
      'device.status': () => active,
      'device.rollback': () => {
        active = status('A', { A: SHA_A, B: SHA_B });
        return { device: VITA.uri, state: active.state };
      },
    });
    const { container } = render(Devices);
    await openVita();
    await fireEvent.click(await screen.findByRole('button', { name: 'Roll back' }));
    expect(count('device.rollback')).toBe(0);
    await fireEvent.click(screen.getByRole('button', { name: 'Confirm: make slot A active' }));
    await waitFor(() => expect(container.querySelector('tr[data-slot="A"]')?.textContent).toContain('active'));
    expect(fake.calls.find((c) => c.method === 'device.rollback')?.input).toEqual({ device: VITA.uri });
  });

  it('Follow log streams device.monitor into the console until stopped; stopping is not an error', async () => {
    let seen: CallOptions | undefined;
    script({
      'device.monitor': (_input, opts) => {
        seen = opts;
        opts.onEvent?.({ type: 'log', stream: 'device', text: 'run 1234 from slot A' });
        return new Promise((_resolve, reject) =>
          opts.signal?.addEventListener('abort', () => reject({ code: 'ABORTED', message: 'cancelled', hint: 'again' })),
        );
      },
    });
    render(Devices);
    await openVita();
    await fireEvent.click(screen.getByRole('button', { name: 'Follow log' }));
    expect(fake.calls.find((c) => c.method === 'device.monitor')?.input).toEqual({ device: VITA.uri, follow: true });
    await waitFor(() => expect(screen.getByRole('log', { name: 'Kit log' }).textContent).toContain('run 1234 from slot A'));
    await fireEvent.click(screen.getByRole('button', { name: 'Stop following' }));
    expect(seen?.signal?.aborted).toBe(true);
    await screen.findByRole('button', { name: 'Follow log' });
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
