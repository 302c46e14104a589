import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { receiptModule, receiptReference } from '../../core/deploy/receipts.js';
import type { Output, Receipt } from '../../core/api/contract.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: Receipts } = await import('../../renderer/src/views/Receipts.svelte');

type Listed = Output<'receipts.list'>['receipts'][number];

const HOST = 'registry.lab:5000';
const d = (c: string) => `sha256:${c.repeat(64)}`;
const hex = (c: string) => c.repeat(64);

/** A receipt as deploys write it, listed as receipts.list derives it (the real core functions). */
function listed(id: string, over: Partial<Receipt>): Listed {
  const r: Receipt = {
    schema: 'flightdeck.receipt/v1',
    id,
    time: '2026-11-26T07:00:00.000Z',
    tool: { name: 'flightdeck', version: '0.1.0' },
    operator: 'pilot',
    source: null,
    kit: null,
    payload: { name: 'x.wasm', sha256: hex('c'), size: 4096 },
    device: { uri: 'tcp://10.0.0.21:7000', name: 'vita-01', platform: 'vita', serial: 'FDE-0001', firmware: 'flightdeck-emulator 0.1.0' },
    reported: { slot: 'B', sha256: hex('c'), matches: true },
    outcome: 'committed',
    transfer: 'full',
    session: null,
    exitCode: null,
    ...over,
  };
  return { ...r, file: `/data/receipts/${id}.json`, module: receiptModule(r), reference: receiptReference(r) };
}

const fromLab = listed('lab1', {
  time: '2026-11-26T09:30:00.000Z',
  source: { reference: `${HOST}/flight/shared-types/bundles/vita:2026.11.01`, manifestDigest: d('d') },
  payload: { name: `${HOST}/flight/shared-types/bundles/vita:2026.11.01!wasm/flight-memory-validation.wasm`, sha256: hex('c'), size: 4096 },
  lab: { file: '/labs/bench/flightdeck.lab.yaml', lockDigest: d('9'), device: 'vita-01' },
});
const wasmArtifact = listed('wasm1', {
  time: '2026-11-26T08:00:00.000Z',
  source: { reference: `${HOST}/flight/shared-types/wasm/simd-checksum:2026.11.01`, manifestDigest: d('e') },
  payload: { name: `${HOST}/flight/shared-types/wasm/simd-checksum:2026.11.01`, sha256: hex('a'), size: 900 },
  device: { uri: 'tcp://10.0.0.22:7000', name: null, platform: 'dreamcast', serial: null, firmware: 'emu' },
  reported: { slot: 'A', sha256: hex('b'), matches: false },
});
const localFile = listed('file1', {
  time: '2026-11-26T07:00:00.000Z',
  payload: { name: 'hello.wasm', sha256: hex('f'), size: 100 },
  lab: null,
});

describe('Receipts: what is on each kit at a glance', () => {
  it('derives module names and canonical sources from what deploys record', () => {
    expect([fromLab, wasmArtifact, localFile].map((r) => [r.module, r.reference])).toEqual([
      ['flight-memory-validation', `${HOST}/flight/shared-types/bundles/vita:2026.11.01@${d('d')}`],
      ['simd-checksum', `${HOST}/flight/shared-types/wasm/simd-checksum:2026.11.01@${d('e')}`],
      ['hello', null],
    ]);
  });

  it('shows module, source (repository:tag@digest), slot, time and lab per row, next to the hashes; the detail adds the lab', async () => {
    fake.reset({ 'receipts.list': () => ({ receipts: [fromLab, wasmArtifact, localFile] }) });
    render(Receipts);
    const table = await screen.findByTestId('receipts-table');
    await waitFor(() => expect(table.querySelectorAll('tr[data-receipt]').length).toBe(3));
    expect([...table.querySelectorAll('thead th')].map((th) => th.textContent)).toEqual(['Time', 'Device', 'Module', 'Source', 'Slot', 'Lab']);
    const cell = (id: string, col: string) => table.querySelector<HTMLElement>(`tr[data-receipt="${id}"] td[data-col="${col}"]`)!;

    // A lab deploy of a bundle's module.
    expect(cell('lab1', 'device').textContent).toMatch(/vita-01\s*vita/);
    expect(within(cell('lab1', 'module')).getByText('flight-memory-validation').tagName).toBe('STRONG');
    expect(cell('lab1', 'module').textContent).toContain('cccccccccccc');
    const source = cell('lab1', 'source');
    expect(source.querySelector('[data-reference]')?.getAttribute('data-reference')).toBe(`${HOST}/flight/shared-types/bundles/vita:2026.11.01@${d('d')}`);
    expect(source.textContent).toMatch(new RegExp(`^\\s*${HOST}/flight/shared-types/bundles/vita:2026\\.11\\.01\\s*@dddddddddddd\\s*$`));
    expect(cell('lab1', 'slot').textContent).toMatch(/B\s*cccccccccccc\s*✓ matches/);
    expect(cell('lab1', 'lab').textContent).toMatch(/flightdeck\.lab\.yaml · vita-01\s*lock 999999999999/);
    expect(within(cell('lab1', 'lab')).getByText('flightdeck.lab.yaml').getAttribute('title')).toBe('/labs/bench/flightdeck.lab.yaml');
    const when = within(table.querySelector<HTMLElement>('tr[data-receipt="lab1"]')!).getByRole('button');
    expect(when.textContent).toBe(new Date('2026-11-26T09:30:00.000Z').toLocaleString());

    // A wasm artifact on an unnamed device whose slot holds something else; no lab.
    expect(cell('wasm1', 'device').textContent).toContain('tcp://10.0.0.22:7000');
    expect(cell('wasm1', 'module').textContent).toContain('simd-checksum');
    expect(cell('wasm1', 'source').textContent).toContain(`${HOST}/flight/shared-types/wasm/simd-checksum:2026.11.01`);
    expect(cell('wasm1', 'slot').textContent).toMatch(/A\s*bbbbbbbbbbbb\s*✗ differs/);
    expect(cell('wasm1', 'lab').textContent?.trim()).toBe('—');

    // A local file: its name, no reference.
    expect(cell('file1', 'module').textContent).toContain('hello');
    expect(cell('file1', 'source').textContent?.trim()).toBe('local file');

    await fireEvent.click(when);
    const detail = await screen.findByTestId('receipt-detail');
    for (const text of ['flight-memory-validation', `${HOST}/flight/shared-types/bundles/vita:2026.11.01@${d('d')}`, '/labs/bench/flightdeck.lab.yaml', d('9')])
      expect(detail.textContent).toContain(text);
    expect(within(detail).getByRole('heading', { name: 'Lab' })).toBeTruthy();

    // A receipt without lab info has no Lab section.
    await fireEvent.click(within(table.querySelector<HTMLElement>('tr[data-receipt="wasm1"]')!).getByRole('button'));
    await waitFor(() => expect(screen.getByTestId('receipt-detail').textContent).toContain('simd-checksum'));
    expect(within(screen.getByTestId('receipt-detail')).queryByRole('heading', { name: 'Lab' })).toBeNull();
  });
});
