import { describe, expect, it, vi } from 'vitest';
import { render, screen, fireEvent, waitFor, within } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { DEMO_DIR, demoSources } from './fixtures.js';
import { guiHint } from '../../renderer/src/lib/errors.js';
import { ERROR_TABLE } from '../../core/errors.js';
import type { KitBuild, KitLock, KitVerify, PlatformEntry } from '../../core/api/contract.js';
import type { CallOptions } from '../../core/api/client.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Kits } = await import('../../renderer/src/views/Kits.svelte');
const { sources } = await import('../../renderer/src/lib/sources.svelte.js');

const d = (c: string) => `sha256:${c.repeat(64)}`;
const features = {
  threads: false,
  simd: false,
  'relaxed-simd': false,
  memory64: false,
  'multi-memory': false,
  'bulk-memory': true,
  'reference-types': true,
  'exception-handling': false,
  'tail-call': false,
  gc: false,
};
const platform = (id: string, name: string): PlatformEntry => ({
  profile: { id, name, memory: { total: 17 << 20, runtimeReserve: 1 << 20, fixed: true }, threads: { max: 1 }, features, componentModel: 'none' },
  budgetBytes: 16 << 20,
  source: 'builtin',
});
const platforms = () => ({ platforms: [platform('dreamcast', 'Sega Dreamcast'), platform('vita', 'PlayStation Vita')] });

const BUNDLE = 'flight/shared-types/bundles/dreamcast:2026.11.01';
const checks = (fits: boolean): KitLock['checks'] => [
  { platform: 'dreamcast', fits, results: [{ ref: BUNDLE, fits, errors: fits ? 0 : 1, warnings: 0, rules: fits ? [] : ['threads.unsupported'] }] },
];

function built(output: string): KitBuild {
  return {
    output,
    format: 'tar',
    kitDigest: d('a'),
    downloadedBytes: 2048,
    reusedBytes: 1024,
    lock: {
      schema: 'flightdeck.kit-lock/v1',
      tool: { name: 'flightdeck', version: '0.1.0' },
      created: '2026-11-01T00:00:00.000Z',
      source: {
        from: 'oci:assets/demo-kit',
        registry: null,
        namespace: 'flight/shared-types',
        master: { ref: 'flight/shared-types/manifest:2026.11.01', digest: d('b') },
      },
      platforms: ['dreamcast'],
      include: ['wit'],
      artifacts: [
        {
          ref: BUNDLE,
          repository: 'flight/shared-types/bundles/dreamcast',
          tag: '2026.11.01',
          category: 'bundles',
          digest: d('c'),
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          platforms: ['dreamcast'],
          size: 2031,
          signatures: [],
          verifiedBy: [],
        },
      ],
      checks: checks(false),
      totalBytes: 3072,
    },
  };
}

function report(problems: KitVerify['problems']): KitVerify {
  return {
    kit: '/lab/kit',
    ok: problems.length === 0,
    blobs: { checked: 13, bytes: 14626 },
    refs: 6,
    lock: true,
    signatures: [
      { ref: BUNDLE, status: 'unsigned', verifiedBy: [] },
      { ref: 'flight/shared-types/manifest:2026.11.01', status: 'verified', verifiedBy: ['release'] },
    ],
    checks: problems.length ? [] : checks(true),
    problems,
  };
}

const aborted = { code: 'ABORTED', message: 'The operation was cancelled.', hint: 'Start it again.' };

describe('Offline kits: build', () => {
  it('builds from the demo layout with the chosen platforms, shows the plan, byte progress, the lock and its checks, and hands the kit on', async () => {
    fake.reset({
      'platforms.list': platforms,
      'app.version': () => ({ version: '0.1.0', node: '20', platform: 'linux', arch: 'x64', demoKit: '/opt/flightdeck/assets/demo-kit' }),
      'kit.build': (input, opts) => {
        opts.onEvent?.({ type: 'plan', artifacts: 5, totalBytes: 3072, downloadBytes: 2048 });
        opts.onEvent?.({
          type: 'progress',
          task: 'blob',
          phase: 'done',
          digest: d('c'),
          title: 'app.wasm',
          mediaType: 'application/wasm',
          done: 2048,
          total: 2048,
        });
        return built((input as { output: string }).output);
      },
    });
    render(Kits);
    await fireEvent.click(await screen.findByRole('checkbox', { name: 'Sega Dreamcast' }));
    await fireEvent.click(screen.getByRole('checkbox', { name: 'Bindings' }));
    await fireEvent.input(screen.getByLabelText('Master manifest tag'), { target: { value: '2026.11.01' } });
    await fireEvent.input(screen.getByLabelText('Output'), { target: { value: '/lab/dc.tar' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build kit' }));

    const result = await screen.findByTestId('kit-built');
    expect(fake.calls.find((c) => c.method === 'kit.build')?.input).toEqual({
      platforms: ['dreamcast'],
      from: 'oci:/opt/flightdeck/assets/demo-kit',
      tag: '2026.11.01',
      include: ['bindings', 'wit'],
      output: '/lab/dc.tar',
    });
    expect(screen.getByTestId('kit-plan').textContent).toMatch(/5 artifacts, 3 KiB in total, 2 KiB to download\s+\(1 KiB already in the content store\)/);
    expect(screen.getByRole('progressbar', { name: 'Build progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(result.textContent).toContain('/lab/dc.tar');
    expect(result.textContent).toContain('aaaaaaaaaaaa');
    expect(within(screen.getByTestId('kit-artifacts')).getByText(BUNDLE)).toBeTruthy();
    const row = screen.getByRole('table', { name: 'Platform checks recorded in the lock' }).querySelector('[data-platform="dreamcast"]')!;
    expect(row.textContent).toContain('Fails');
    expect(row.textContent).toContain('threads.unsupported');
    expect((screen.getByLabelText('Kit') as HTMLInputElement).value).toBe('/lab/dc.tar');
  });

  it('offers the app’s own sources to build from: the demo kit and each configured registry’s Flight namespace', async () => {
    const listing = demoSources({ firstRun: false });
    listing.sources.push({ id: 'registry:lab:5000', kind: 'registry', label: 'lab:5000', location: 'lab:5000', artifacts: [] });
    fake.reset({
      'platforms.list': platforms,
      'sources.list': () => listing,
      'app.version': () => ({ version: '0.1.0', node: '20', platform: 'linux', arch: 'x64', demoKit: DEMO_DIR }),
      'kit.build': (input) => built((input as { output: string }).output),
    });
    await sources.refresh();
    render(Kits);
    const from = (await screen.findByLabelText('From your sources')) as HTMLSelectElement;
    await waitFor(() =>
      expect([...from.options].map((o) => o.textContent)).toEqual(['Pick a source…', `Demo kit (${DEMO_DIR})`, 'lab:5000/flight/shared-types']),
    );
    await fireEvent.change(from, { target: { value: 'registry:lab:5000/flight/shared-types' } });
    expect((screen.getByLabelText('Namespace') as HTMLInputElement).value).toBe('lab:5000/flight/shared-types');
    await fireEvent.click(await screen.findByRole('checkbox', { name: 'Sega Dreamcast' }));
    await fireEvent.input(screen.getByLabelText('Output'), { target: { value: '/lab/dc' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build kit' }));
    await screen.findByTestId('kit-built');
    expect(fake.calls.find((c) => c.method === 'kit.build')?.input).toMatchObject({ from: 'lab:5000/flight/shared-types', platforms: ['dreamcast'] });
  });

  it('builds from a registry namespace; Cancel aborts the call and shows ABORTED', async () => {
    let seen: CallOptions | undefined;
    fake.reset({
      'platforms.list': platforms,
      'kit.build': (_input, opts) =>
        new Promise((_resolve, reject) => {
          seen = opts;
          opts.signal?.addEventListener('abort', () => reject(aborted));
        }),
    });
    render(Kits);
    await fireEvent.click(await screen.findByRole('checkbox', { name: 'PlayStation Vita' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Registry namespace' }));
    expect(screen.queryByLabelText('Layout folder')).toBeNull();
    await fireEvent.input(screen.getByLabelText('Namespace'), { target: { value: 'reg.example/flight/shared-types' } });
    await fireEvent.input(screen.getByLabelText('Output'), { target: { value: '/lab/kit/' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build kit' }));
    await screen.findByRole('progressbar', { name: 'Build progress' });
    expect(fake.calls.find((c) => c.method === 'kit.build')?.input).toMatchObject({
      platforms: ['vita'],
      from: 'reg.example/flight/shared-types',
      tag: 'latest',
      include: ['wit'],
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(seen?.signal?.aborted).toBe(true);
    expect((await screen.findByRole('alert')).textContent).toContain('ABORTED');
    expect(screen.queryByTestId('kit-built')).toBeNull();
  });
});

describe('Offline kits: an output that exists', () => {
  it('shows “Replace” on KIT_OUTPUT_EXISTS, in GUI words; pressing it re-runs the same build with replace and says the old kit was replaced', async () => {
    const inputs: unknown[] = [];
    fake.reset({
      'platforms.list': platforms,
      'app.version': () => ({ version: '0.1.0', node: '20', platform: 'linux', arch: 'x64', demoKit: DEMO_DIR }),
      'kit.build': (input) => {
        inputs.push(input);
        if (!(input as { replace?: boolean }).replace)
          throw {
            code: 'KIT_OUTPUT_EXISTS',
            message: '/lab/dc.tar already exists: a kit is never written over an existing one unless it replaces it.',
            hint: ERROR_TABLE.KIT_OUTPUT_EXISTS.hint,
          };
        return { ...built((input as { output: string }).output), replaced: true };
      },
    });
    render(Kits);
    await fireEvent.click(await screen.findByRole('checkbox', { name: 'Sega Dreamcast' }));
    await fireEvent.input(screen.getByLabelText('Output'), { target: { value: '/lab/dc.tar' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Build kit' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('KIT_OUTPUT_EXISTS');
    const hint = alert.querySelector('.hint')!.textContent!;
    expect(hint).toContain('“Replace”');
    expect(hint).not.toMatch(/--|flightdeck/);

    // The form changes after the error: Replace still re-runs the build that was refused.
    await fireEvent.click(screen.getByRole('checkbox', { name: 'PlayStation Vita' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Replace' }));
    const result = await screen.findByTestId('kit-built');
    expect(inputs).toEqual([
      { platforms: ['dreamcast'], from: `oci:${DEMO_DIR}`, tag: 'latest', include: ['wit'], output: '/lab/dc.tar' },
      { platforms: ['dreamcast'], from: `oci:${DEMO_DIR}`, tag: 'latest', include: ['wit'], output: '/lab/dc.tar', replace: true },
    ]);
    expect(result.textContent).toContain('Built and replaced the old kit');
    // No stale error or Replace button below the new result.
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Replace' })).toBeNull();
  });

  it('offers no “Replace” for other errors (a file that is not a kit, another build at the same output)', async () => {
    const errors = [
      { code: 'INVALID_INPUT', message: '/lab/notes.tar already exists and is not a Flight Deck kit.', hint: 'Choose another --output.' },
      { code: 'KIT_OUTPUT_BUSY', message: '/lab/dc.tar: another Flight Deck process is building a kit here.', hint: ERROR_TABLE.KIT_OUTPUT_BUSY.hint },
    ];
    let n = 0;
    fake.reset({
      'platforms.list': platforms,
      'app.version': () => ({ version: '0.1.0', node: '20', platform: 'linux', arch: 'x64', demoKit: DEMO_DIR }),
      'kit.build': () => {
        throw errors[n++];
      },
    });
    render(Kits);
    await fireEvent.click(await screen.findByRole('checkbox', { name: 'Sega Dreamcast' }));
    await fireEvent.input(screen.getByLabelText('Output'), { target: { value: '/lab/notes.tar' } });
    for (const e of errors) {
      await fireEvent.click(screen.getByRole('button', { name: 'Build kit' }));
      await waitFor(() => expect(screen.getByRole('alert').textContent).toContain(e.code));
      expect(screen.queryByRole('button', { name: 'Replace' })).toBeNull();
      expect(screen.getByRole('alert').querySelector('.hint')!.textContent).not.toMatch(/--|flightdeck/);
    }
  });
});

describe('Offline kits: verify, import, push', () => {
  it('a clean report says what was checked: blobs, lock, signatures by status, platform checks re-run', async () => {
    fake.reset({ 'platforms.list': platforms, 'kit.verify': () => report([]) });
    render(Kits);
    await fireEvent.input(screen.getByLabelText('Kit'), { target: { value: ' /lab/kit ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const r = await screen.findByTestId('kit-report');
    expect(fake.calls.find((c) => c.method === 'kit.verify')?.input).toEqual({ kit: '/lab/kit' });
    expect(within(r).getByRole('status').textContent).toContain('Kit verified');
    expect(r.textContent).toContain('13 blobs re-hashed (14.3 KiB), 6 refs');
    expect(r.textContent).toContain('Signatures: 1 verified, 1 unsigned');
    expect(r.textContent).toContain('Platform checks re-run for dreamcast: as the lock records');
    expect(within(r).queryByRole('alert')).toBeNull();
  });

  it('every problem of a refused kit is shown with its code and the hint of the refusal', async () => {
    fake.reset({
      'platforms.list': platforms,
      'kit.verify': () =>
        report([
          { code: 'BLOB_DIGEST_MISMATCH', message: `blob ${d('c')} is tampered.`, hint: ERROR_TABLE.KIT_INVALID.hint, subject: d('c') },
          { code: 'KIT_INVALID', message: 'the lock says the kit holds 3072 blob bytes, it holds 3071.', hint: ERROR_TABLE.KIT_INVALID.hint },
          { code: 'SIGNATURE_INVALID', message: 'signature of the bundle does not verify.', hint: ERROR_TABLE.SIGNATURE_INVALID.hint, subject: BUNDLE },
        ]),
    });
    render(Kits);
    await fireEvent.input(screen.getByLabelText('Kit'), { target: { value: '/lab/kit' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const r = await screen.findByTestId('kit-report');
    expect(within(r).getByRole('status').textContent).toContain('Kit refused: 3 problems');
    const alerts = within(r).getAllByRole('alert');
    expect(alerts.map((a) => a.querySelector('.code')?.textContent)).toEqual(['BLOB_DIGEST_MISMATCH', 'KIT_INVALID', 'SIGNATURE_INVALID']);
    expect(alerts[0]!.textContent).toContain(`blob ${d('c')} is tampered.`);
    // The hints in GUI words (no CLI command in the window).
    expect(alerts.map((a) => a.querySelector('.hint')?.textContent)).toEqual([
      guiHint('BLOB_DIGEST_MISMATCH', ERROR_TABLE.KIT_INVALID.hint),
      guiHint('KIT_INVALID', ERROR_TABLE.KIT_INVALID.hint),
      guiHint('SIGNATURE_INVALID', ERROR_TABLE.SIGNATURE_INVALID.hint),
    ]);
    expect(alerts.map((a) => a.querySelector('.hint')?.textContent).join(' ')).not.toContain('flightdeck');
    expect(r.textContent).toContain('Platform checks not re-run: the kit has problems');
  });

  it('import shows what was added and what was already present; a refused import shows its code and hint', async () => {
    let refuse = false;
    fake.reset({
      'platforms.list': platforms,
      'kit.import': () => {
        if (refuse) throw { code: 'KIT_INVALID', message: '/lab/bad: blob is tampered. Nothing was imported.', hint: ERROR_TABLE.KIT_INVALID.hint };
        return {
          kit: '/lab/kit',
          store: '/home/fd/store',
          refs: [BUNDLE, 'flight/shared-types/manifest:2026.11.01'],
          blobsAdded: 3,
          blobsPresent: 10,
          bytesAdded: 2048,
        };
      },
    });
    render(Kits);
    await fireEvent.input(screen.getByLabelText('Kit'), { target: { value: '/lab/kit' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    const done = await screen.findByTestId('kit-imported');
    expect(done.textContent).toContain('Imported 2 refs into /home/fd/store: 3 blobs added (2 KiB), 10 already present.');
    expect(within(done).getByText(BUNDLE)).toBeTruthy();

    refuse = true;
    await fireEvent.input(screen.getByLabelText('Kit'), { target: { value: '/lab/bad' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('KIT_INVALID');
    expect(alert.querySelector('.hint')?.textContent).toBe(guiHint('KIT_INVALID', ERROR_TABLE.KIT_INVALID.hint));
    expect(screen.queryByTestId('kit-imported')).toBeNull();
  });

  it('push needs a kit and a registry, then reports what was uploaded', async () => {
    fake.reset({
      'platforms.list': platforms,
      'kit.push': (input) => ({ registry: (input as { registry: string }).registry, refs: [BUNDLE], uploaded: 4, skipped: 1 }),
    });
    render(Kits);
    const push = screen.getByRole('button', { name: 'Push to registry' });
    await fireEvent.input(screen.getByLabelText('Kit'), { target: { value: '/lab/kit.tar' } });
    expect((push as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(screen.getByLabelText('Lab registry'), { target: { value: 'lab:5000' } });
    await fireEvent.click(push);
    expect((await screen.findByTestId('kit-pushed')).textContent).toContain('Pushed 1 ref to lab:5000: 4 blobs uploaded, 1 already there.');
    expect(fake.calls.find((c) => c.method === 'kit.push')?.input).toEqual({ kit: '/lab/kit.tar', registry: 'lab:5000' });
  });
});
