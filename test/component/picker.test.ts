import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { demoRef, demoSources, platformEntry } from './fixtures.js';
import type { TimedEvent } from '../../renderer/src/lib/deploy-progress.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: SourcePicker } = await import('../../renderer/src/lib/SourcePicker.svelte');
const { default: PayloadFields } = await import('../../renderer/src/views/devices/PayloadFields.svelte');
const { default: DeployBar } = await import('../../renderer/src/lib/DeployBar.svelte');
const { default: Checks } = await import('../../renderer/src/views/Checks.svelte');
const { sources } = await import('../../renderer/src/lib/sources.svelte.js');
const { deployBar } = await import('../../renderer/src/lib/deploy-phases.js');

const VITA = demoRef('bundles/vita');
const DREAMCAST = demoRef('bundles/dreamcast');
const MODULES = ['flight-memory-validation', 'flight-error-codes', 'flight-session-threads'];

beforeEach(async () => {
  fake.reset({
    'sources.list': () => demoSources(),
    'sources.modules': (input) => ({
      reference: (input as { reference: string }).reference,
      kind: 'bundle',
      platform: (input as { reference: string }).reference.includes('dreamcast') ? 'dreamcast' : 'vita',
      modules: MODULES.map((name) => ({ name, file: `wasm/${name}.wasm` })),
    }),
    'platforms.list': () => ({ platforms: [platformEntry('dreamcast', 'Sega Dreamcast'), platformEntry('vita', 'PlayStation Vita')] }),
  });
  // The sources are loaded once per window: each test starts from this script's answer.
  await sources.refresh();
});

const select = (id: string) => screen.getByTestId(`${id}-picker`) as HTMLSelectElement;

describe('source picker', () => {
  it('offers the deployable artifacts of every source, grouped by platform, single modules last, never the master manifest', async () => {
    render(SourcePicker, { id: 'p', label: 'Bundle' });
    const groups = [...select('p').querySelectorAll('optgroup')];
    expect(groups.map((g) => g.label)).toEqual(['Built for dreamcast', 'Built for vita', 'Single modules (any platform)']);
    expect(groups.map((g) => [...g.querySelectorAll('option')].map((o) => o.textContent))).toEqual([
      ['flight/shared-types/bundles/dreamcast:latest · Demo kit'],
      ['flight/shared-types/bundles/vita:latest · Demo kit'],
      ['flight/shared-types/wasm/memory-validation:latest · Demo kit'],
    ]);
    expect(select('p').textContent).not.toContain('manifest:latest');
    // Picking fills the field with the reference check and deploy take.
    await fireEvent.change(select('p'), { target: { value: VITA } });
    expect((screen.getByLabelText('Bundle') as HTMLInputElement).value).toBe(VITA);
  });

  it('marks bundles built for another platform than the device’s, before anything runs', async () => {
    render(SourcePicker, { id: 'p', label: 'Payload', platform: 'vita' });
    const dc = [...select('p').querySelectorAll('option')].find((o) => o.value === DREAMCAST)!;
    expect(dc.textContent).toContain('— not for vita');
    expect([...select('p').querySelectorAll('option')].find((o) => o.value === VITA)!.textContent).not.toContain('not for');
    await fireEvent.change(select('p'), { target: { value: DREAMCAST } });
    expect((await screen.findByTestId('p-mismatch')).textContent).toContain('Built for dreamcast, but the device is vita');
    await fireEvent.change(select('p'), { target: { value: VITA } });
    expect(screen.queryByTestId('p-mismatch')).toBeNull();
    expect(fake.calls.filter((c) => c.method === 'wasm.check' || c.method === 'deploy.run')).toEqual([]);
  });

  it('the deploy form’s Module is a list read from the bundle: its first module by default, a typed one kept when the bundle has it', async () => {
    render(PayloadFields, { id: 'deploy', platform: 'vita' });
    await fireEvent.input(screen.getByLabelText('Module (optional)'), { target: { value: 'flight-error-codes' } });
    await fireEvent.change(select('deploy'), { target: { value: VITA } });
    const module = (await screen.findByLabelText('Module', { exact: true })) as HTMLSelectElement;
    expect([...module.options].map((o) => o.value)).toEqual(MODULES);
    await waitFor(() => expect(module.value).toBe('flight-error-codes'));
    expect(fake.calls.find((c) => c.method === 'sources.modules')?.input).toEqual({ reference: VITA });

    // Another bundle without that module: its first.
    fake.script['sources.modules'] = (input) => ({
      reference: (input as { reference: string }).reference,
      kind: 'bundle',
      platform: 'dreamcast',
      modules: [{ name: 'dc-main', file: 'wasm/dc-main.wasm' }],
    });
    await fireEvent.change(select('deploy'), { target: { value: DREAMCAST } });
    await waitFor(() => expect((screen.getByLabelText('Module', { exact: true }) as HTMLSelectElement).value).toBe('dc-main'));
  });

  it('Checks ticks the platform a picked bundle is annotated for', async () => {
    render(Checks);
    const vita = (await screen.findByRole('checkbox', { name: /PlayStation Vita/ })) as HTMLInputElement;
    expect(vita.checked).toBe(false);
    await fireEvent.change(select('target'), { target: { value: VITA } });
    await waitFor(() => expect(vita.checked).toBe(true));
    expect((screen.getByRole('checkbox', { name: /Sega Dreamcast/ }) as HTMLInputElement).checked).toBe(false);
  });
});

describe('deploy bar', () => {
  const at = 0;
  const phase = (p: string): TimedEvent => ({ type: 'phase', phase: p, at }) as TimedEvent;
  const up = (done: number, total: number): TimedEvent =>
    ({ type: 'progress', phase: 'upload', done, total, retries: 0, resumedFrom: 0, wireBytes: done, at }) as TimedEvent;

  it('running: the phases before are done, the current one active, the percentage over the whole deploy', () => {
    const v = deployBar([phase('connect'), phase('check'), phase('upload'), up(512, 1024)], { failed: false, done: false, run: true });
    expect(v.state).toBe('running');
    expect(v.percent).toBeGreaterThan(5);
    expect(v.percent).toBeLessThan(88);
    expect(v.phases).toEqual([
      { id: 'check', state: 'done' },
      { id: 'upload', state: 'active' },
      { id: 'verify', state: 'todo' },
      { id: 'commit', state: 'todo' },
      { id: 'run', state: 'todo' },
    ]);
  });

  it('failed: stops where it failed and marks that phase; success: 100 % and every phase done; run only when asked', () => {
    const events = [phase('check'), phase('upload'), up(100, 1024), phase('verify')];
    const failed = deployBar(events, { failed: true, done: false, run: false });
    expect(failed).toMatchObject({ state: 'failed', current: 'verify', percent: 88 });
    expect(failed.phases.map((p) => p.state)).toEqual(['done', 'done', 'failed', 'todo']);
    // Success is 100 % even when the last event said less (an already-active payload sends no upload).
    const done = deployBar([phase('check')], { failed: false, done: true, run: false });
    expect(done).toMatchObject({ state: 'done', percent: 100 });
    expect(done.phases.map((p) => p.id)).toEqual(['check', 'upload', 'verify', 'commit']);
    expect(done.phases.every((p) => p.state === 'done')).toBe(true);
  });

  it('renders the states: the bar’s value and colour state, the current phase for assistive tech', () => {
    // `props:` spelled out: `events` is also a mount option of Svelte.
    const { container, rerender } = render(DeployBar, { props: { events: [phase('upload'), up(256, 1024)], failed: false, done: false, run: true } });
    const bar = screen.getByRole('progressbar', { name: 'Deploy progress' });
    expect(Number(bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
    expect(container.querySelector('li[aria-current="step"]')?.getAttribute('data-phase')).toBe('upload');
    expect(container.querySelector('.progress-text')?.textContent).toContain('256 B / 1 KiB');
    rerender({ events: [phase('upload'), up(256, 1024)], failed: true, done: false, run: true });
    expect(screen.getByTestId('deploy-bar').dataset.state).toBe('failed');
    expect(bar.getAttribute('aria-valuetext')).toContain('failed');
    rerender({ events: [phase('upload'), up(1024, 1024), phase('commit')], failed: false, done: true, run: true });
    expect(screen.getByTestId('deploy-bar').dataset.state).toBe('done');
    expect(bar.getAttribute('aria-valuenow')).toBe('100');
  });
});
