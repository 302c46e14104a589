import { describe, expect, it, vi, beforeEach } from 'vitest';
import { render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { platformEntry } from './fixtures.js';
import type { CheckReport, PlatformEntry } from '../../core/api/contract.js';
import type { CallOptions } from '../../core/api/client.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Checks } = await import('../../renderer/src/views/Checks.svelte');
const { default: Credentials } = await import('../../renderer/src/views/Credentials.svelte');
const { default: ErrorBox } = await import('../../renderer/src/lib/ErrorBox.svelte');
const { default: MemoryBar } = await import('../../renderer/src/lib/MemoryBar.svelte');

const MiB = 1024 * 1024;

const platform = (id: string, name: string, budget: number, threads: number): PlatformEntry => platformEntry(id, name, { budget, threads });

function report(fits: boolean): CheckReport {
  return {
    schema: 'flightdeck.check-report/v1',
    tool: { name: 'flightdeck', version: '0.1.0' },
    target: 'reg/flight/bundles/vita:1',
    inputKind: 'oci-layout',
    annotations: {},
    modules: [
      {
        path: 'big.wasm',
        kind: 'module',
        size: 10,
        sha256: 'a'.repeat(64),
        features: [],
        threads: false,
        memory: { initialBytes: 32 * MiB, maximumBytes: null, codeBytes: 0, dataBytes: 0, requiredBytes: 32 * MiB },
      },
      {
        path: 'small.wasm',
        kind: 'module',
        size: 10,
        sha256: 'b'.repeat(64),
        features: [],
        threads: false,
        memory: { initialBytes: MiB, maximumBytes: MiB, codeBytes: 0, dataBytes: 0, requiredBytes: MiB },
      },
    ],
    platforms: [
      {
        id: 'dreamcast',
        name: 'Sega Dreamcast',
        budgetBytes: 16 * MiB,
        maxThreads: 1,
        fits,
        findings: fits ? [] : [{ ruleId: 'memory.initial-exceeds-budget', severity: 'error', message: 'big.wasm needs 32 MiB', module: 'big.wasm' }],
      },
    ],
    rules: [],
    summary: { fits, errors: fits ? 0 : 1, warnings: 0, notes: 0 },
  };
}

beforeEach(() => localStorage.clear());

describe('ErrorBox and MemoryBar', () => {
  it('shows an error with its code, message and hint as an alert', () => {
    render(ErrorBox, { error: { code: 'REGISTRY_UNAUTHORIZED', message: 'Wrong password.', hint: 'Sign in again.' } });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('REGISTRY_UNAUTHORIZED');
    expect(alert.textContent).toContain('Wrong password.');
    expect(alert.textContent).toContain('Sign in again.');
  });

  it('marks a module over budget and states the numbers for assistive tech', () => {
    const { container } = render(MemoryBar, { label: 'big.wasm', used: 32 * MiB, budget: 16 * MiB });
    expect(container.querySelector('.memory.over')).not.toBeNull();
    const meter = screen.getByRole('meter', { name: 'big.wasm memory' });
    expect(meter.getAttribute('aria-valuetext')).toBe('32 MiB of 16 MiB');
    expect((container.querySelector('.memory-fill') as HTMLElement).style.width).toBe('100%');
  });
});

describe('Checks view', () => {
  it('lists platforms, runs the check with the chosen ones, shows findings with rule ids and the failing memory bar', async () => {
    fake.reset({
      'platforms.list': () => ({ platforms: [platform('dreamcast', 'Sega Dreamcast', 16 * MiB, 1), platform('vita', 'PlayStation Vita', 448 * MiB, 3)] }),
      'wasm.check': () => report(false),
    });
    const { container } = render(Checks);
    const dc = await screen.findByRole('checkbox', { name: /Sega Dreamcast/ });
    await fireEvent.input(screen.getByLabelText('Bundle'), { target: { value: 'reg/flight/bundles/vita:1' } });
    await fireEvent.click(dc);
    await fireEvent.click(screen.getByRole('button', { name: 'Run check' }));
    expect((await screen.findByTestId('fits-line')).textContent).toBe('Does not fit Sega Dreamcast');
    expect(fake.calls.find((c) => c.method === 'wasm.check')?.input).toEqual({ target: 'reg/flight/bundles/vita:1', platforms: ['dreamcast'] });
    expect(container.querySelector('[data-platform="dreamcast"] tbody')?.textContent).toContain('memory.initial-exceeds-budget');
    expect(container.querySelectorAll('[data-platform="dreamcast"] .memory.over')).toHaveLength(1);
  });

  it('shows progress while checking and Cancel aborts the call', async () => {
    let seen: CallOptions | undefined;
    fake.reset({
      'platforms.list': () => ({ platforms: [platform('dreamcast', 'Sega Dreamcast', 16 * MiB, 1)] }),
      'wasm.check': (_input, opts) =>
        new Promise((_resolve, reject) => {
          seen = opts;
          opts.onEvent?.({ type: 'progress', task: 'check', done: 1, total: 4, detail: 'a.wasm' });
          opts.signal?.addEventListener('abort', () => reject({ code: 'ABORTED', message: 'The operation was cancelled.', hint: 'Start it again.' }));
        }),
    });
    render(Checks);
    await fireEvent.click(await screen.findByRole('checkbox', { name: /Sega Dreamcast/ }));
    await fireEvent.input(screen.getByLabelText('Bundle'), { target: { value: 'x.wasm' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Run check' }));
    const bar = await screen.findByRole('progressbar', { name: 'Check progress' });
    await waitFor(() => expect(bar.getAttribute('aria-valuenow')).toBe('25'));
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(seen?.signal?.aborted).toBe(true);
    expect((await screen.findByRole('alert')).textContent).toContain('ABORTED');
  });
});

describe('Credentials view', () => {
  it('sends the password only in the login call, clears the field, and lists the result without the secret', async () => {
    const listed = { credentials: [] as unknown[], problems: [] };
    fake.reset({
      'credentials.list': () => listed,
      'credentials.login': (input) => {
        const i = input as { registry: string; username: string };
        listed.credentials = [{ registry: i.registry, username: i.username, kind: 'basic', source: 'keychain', verifiedAt: new Date(0).toISOString() }];
        return listed.credentials[0];
      },
    });
    const { container } = render(Credentials);
    await screen.findByText('No credentials yet.');
    await fireEvent.input(screen.getByLabelText('Registry'), { target: { value: 'reg.example' } });
    await fireEvent.input(screen.getByLabelText('User name'), { target: { value: 'pilot' } });
    await fireEvent.input(screen.getByLabelText('Password or token'), { target: { value: 's3cret-pass' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Verify and save' }));
    expect(await screen.findByText(/Signed in to reg.example as pilot/)).toBeTruthy();
    expect(fake.calls.find((c) => c.method === 'credentials.login')?.input).toEqual({
      registry: 'reg.example',
      kind: 'basic',
      username: 'pilot',
      secret: 's3cret-pass',
    });
    expect((screen.getByLabelText('Password or token') as HTMLInputElement).value).toBe('');
    await waitFor(() => expect(container.querySelector('[data-registry="reg.example"]')).not.toBeNull());
    expect(container.innerHTML).not.toContain('s3cret-pass');
  });

  it('offers an access token instead of a password (no user name needed) and plain HTTP for a lab registry', async () => {
    fake.reset({
      'credentials.list': () => ({ credentials: [], problems: [] }),
      'credentials.login': (input) => ({ registry: (input as { registry: string }).registry, kind: 'bearer', source: 'keychain' }),
    });
    render(Credentials);
    await screen.findByText('No credentials yet.');
    await fireEvent.click(screen.getByRole('radio', { name: 'Access token' }));
    expect((screen.getByLabelText('User name (optional)') as HTMLInputElement).required).toBe(false);
    await fireEvent.input(screen.getByLabelText('Registry'), { target: { value: 'lab:5000' } });
    await fireEvent.input(screen.getByLabelText('Password or token'), { target: { value: 'tok-123' } });
    await fireEvent.click(screen.getByRole('checkbox', { name: /Plain HTTP/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Verify and save' }));
    await waitFor(() =>
      expect(fake.calls.find((c) => c.method === 'credentials.login')?.input).toEqual({
        registry: 'lab:5000',
        kind: 'bearer',
        secret: 'tok-123',
        plainHttp: true,
      }),
    );
  });

  it('removes a keychain entry only after a second, confirming press', async () => {
    let removed = false;
    fake.reset({
      'credentials.list': () => ({
        credentials: removed ? [] : [{ registry: 'reg.example', username: 'pilot', kind: 'basic', source: 'keychain' }],
        problems: [],
      }),
      'credentials.logout': () => {
        removed = true;
        return { registry: 'reg.example', removed: true };
      },
    });
    render(Credentials);
    await fireEvent.click(await screen.findByRole('button', { name: 'Remove' }));
    expect(fake.calls.some((c) => c.method === 'credentials.logout')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Confirm remove' }));
    expect(await screen.findByText('Removed the credentials of reg.example from the keychain.')).toBeTruthy();
    await screen.findByText('No credentials yet.');
  });
});
