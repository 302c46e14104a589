import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { demoRef, demoSources, platformEntry } from './fixtures.js';
import type { CheckReport } from '../../core/api/contract.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Checks } = await import('../../renderer/src/views/Checks.svelte');
const { sources } = await import('../../renderer/src/lib/sources.svelte.js');
const { commonPrefix } = await import('../../renderer/src/views/checks/fixes.js');

const MiB = 1024 * 1024;
const VITA = demoRef('bundles/vita');
const DREAMCAST = demoRef('bundles/dreamcast');
const mod = (path: string, required: number, threads = false) => ({
  path,
  kind: 'module' as const,
  size: 10,
  sha256: 'a'.repeat(64),
  features: [],
  threads,
  memory: { initialBytes: required, maximumBytes: required, codeBytes: 0, dataBytes: 0, requiredBytes: required },
});

/** The Vita bundle against Vita (fits) and Dreamcast (two modules fail). */
function vitaReport(target: string): CheckReport {
  return {
    schema: 'flightdeck.check-report/v1',
    tool: { name: 'flightdeck', version: '0.1.0' },
    target,
    inputKind: 'oci-layout',
    annotations: { 'flight.target-platform': 'vita' },
    modules: [mod('vita/wasm/flight-memory-validation.wasm', 40 * MiB), mod('vita/wasm/flight-session-threads.wasm', MiB, true)],
    platforms: [
      { id: 'vita', name: 'PlayStation Vita', budgetBytes: 448 * MiB, maxThreads: 3, fits: true, findings: [] },
      {
        id: 'dreamcast',
        name: 'Sega Dreamcast',
        budgetBytes: 12 * MiB,
        maxThreads: 1,
        fits: false,
        findings: [
          { ruleId: 'metadata.target-platform-mismatch', severity: 'error', message: 'flight.target-platform is vita', module: null },
          {
            ruleId: 'memory.initial-exceeds-budget',
            severity: 'error',
            message: 'needs 40 MiB',
            module: 'vita/wasm/flight-memory-validation.wasm',
            actual: 40 * MiB,
            limit: 12 * MiB,
          },
          { ruleId: 'threads.unsupported', severity: 'error', message: 'uses threads', module: 'vita/wasm/flight-session-threads.wasm' },
        ],
      },
    ],
    rules: [],
    summary: { fits: false, errors: 3, warnings: 0, notes: 0 },
  };
}

beforeEach(async () => {
  fake.reset({
    'sources.list': () => demoSources(),
    'platforms.list': () => ({ platforms: [platformEntry('dreamcast', 'Sega Dreamcast'), platformEntry('vita', 'PlayStation Vita')] }),
    'wasm.check': (input) => vitaReport((input as { target: string }).target),
  });
  await sources.refresh();
});

describe('check results', () => {
  it('say which platforms fit, group findings by module without the shared path, and suggest each fix', async () => {
    const { container } = render(Checks);
    await fireEvent.change(screen.getByTestId('target-picker'), { target: { value: VITA } });
    await fireEvent.click(await screen.findByRole('checkbox', { name: /Sega Dreamcast/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Run check' }));
    expect((await screen.findByTestId('fits-line')).textContent).toBe('Fits PlayStation Vita · Does not fit Sega Dreamcast');

    const dc = container.querySelector<HTMLElement>('[data-platform="dreamcast"]')!;
    expect(dc.textContent).toContain('modules in vita/wasm/');
    const modules = [...dc.querySelectorAll('section.module h4')].map((h) => h.textContent?.replace(/\s+/g, ' ').trim());
    expect(modules).toEqual(['The whole bundle · 1 finding', 'flight-memory-validation.wasm · 1 finding', 'flight-session-threads.wasm · 1 finding']);
    const fixes = [...dc.querySelectorAll('td.fix')].map((td) => td.textContent);
    expect(fixes).toEqual([
      'Check and deploy the Sega Dreamcast bundle instead.',
      'Build with a smaller initial memory: -sINITIAL_MEMORY=12MB (Emscripten) or --initial-memory=12582912 (wasm-ld).',
      'Deploy the Sega Dreamcast bundle instead, or build without threads (no -pthread, no shared memory).',
    ]);
    // The Vita card repeats no path prefix either, and has no findings.
    expect(container.querySelector('[data-platform="vita"]')?.textContent).toContain('No findings.');

    // "Check the dreamcast bundle instead" runs the check on the app's own Dreamcast bundle.
    await fireEvent.click(within(dc).getByRole('button', { name: 'Check the dreamcast bundle instead' }));
    await waitFor(() => expect(fake.calls.filter((c) => c.method === 'wasm.check').at(-1)?.input).toMatchObject({ target: DREAMCAST }));
    expect((screen.getByLabelText('Bundle') as HTMLInputElement).value).toBe(DREAMCAST);
  });

  it('the shared path prefix of module paths', () => {
    expect(commonPrefix(['vita/wasm/a.wasm', 'vita/wasm/b.wasm'])).toBe('vita/wasm/');
    expect(commonPrefix(['vita/wasm/a.wasm', 'vita/lib/b.wasm'])).toBe('vita/');
    expect(commonPrefix(['a.wasm', 'b.wasm'])).toBe('');
    expect(commonPrefix(['x/only.wasm'])).toBe('x/');
  });
});
