import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));

const { default: LogConsole } = await import('../../renderer/src/views/devices/LogConsole.svelte');
const { SelectedDevice, clock } = await import('../../renderer/src/views/devices/device.svelte.js');

/** 2026-12-06 14:03:07.250 local time. */
const AT = new Date(2026, 11, 6, 14, 3, 7, 250).getTime();

function device() {
  const d = new SelectedDevice('tcp://127.0.0.1:7001', 'vita-01');
  d.log.push({ type: 'log', stream: 'stdout', text: 'boot ok\n' }, AT);
  d.log.push({ type: 'log', stream: 'stderr', text: 'low battery\n' }, AT + 1000);
  d.log.push({ type: 'log', stream: 'stdout', text: 'fits: yes\n' }, AT + 2000);
  return d;
}

describe('the kit console', () => {
  it('stamps each line with its arrival time, and filters by text or stream', async () => {
    const d = device();
    const { container } = render(LogConsole, { device: d });
    const log = screen.getByRole('log', { name: 'Kit log' });
    expect([...log.querySelectorAll('time')].map((t) => t.textContent)).toEqual(['14:03:07.250', '14:03:08.250', '14:03:09.250']);
    expect(clock(AT)).toBe('14:03:07.250');
    // stderr has its own (calm) class, not the error styling.
    expect(container.querySelector('.console .stderr')?.textContent).toContain('low battery');
    await fireEvent.input(screen.getByLabelText('Filter'), { target: { value: 'stderr' } });
    expect(log.textContent).toContain('low battery');
    expect(log.textContent).not.toContain('boot ok');
    expect(screen.getByText('1 of 3 lines')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Filter'), { target: { value: 'nothing like it' } });
    expect(log.textContent).toContain('No line matches the filter.');
  });

  it('autoscroll follows new lines, pauses on Pause (or scrolling up), resumes', async () => {
    const d = device();
    render(LogConsole, { device: d });
    const log = screen.getByRole('log', { name: 'Kit log' });
    // jsdom has no layout: give the log a height and a content height, as a browser would.
    let height = 1000;
    Object.defineProperty(log, 'scrollHeight', { get: () => height });
    Object.defineProperty(log, 'clientHeight', { get: () => 180 });
    d.log.push({ type: 'log', stream: 'stdout', text: 'line 4' });
    flushSync();
    expect(log.scrollTop).toBe(1000);

    await fireEvent.click(screen.getByRole('button', { name: 'Pause scrolling' }));
    log.scrollTop = 100;
    height = 2000;
    d.log.push({ type: 'log', stream: 'stdout', text: 'line 5' });
    flushSync();
    expect(log.scrollTop).toBe(100);

    await fireEvent.click(screen.getByRole('button', { name: 'Resume scrolling' }));
    flushSync();
    d.log.push({ type: 'log', stream: 'stdout', text: 'line 6' });
    flushSync();
    expect(log.scrollTop).toBe(2000);

    // Scrolling up by hand pauses as well.
    log.scrollTop = 0;
    await fireEvent.scroll(log);
    expect(screen.getByRole('button', { name: 'Resume scrolling' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('saves what it shows as a text file with ISO timestamps', async () => {
    const d = device();
    expect(d.log.text()).toBe(
      [
        `${new Date(AT).toISOString()} stdout boot ok`,
        `${new Date(AT + 1000).toISOString()} stderr low battery`,
        `${new Date(AT + 2000).toISOString()} stdout fits: yes`,
      ]
        .map((l) => `${l}\n`)
        .join(''),
    );
    const saved: Blob[] = [];
    const createObjectURL = vi.fn((b: Blob) => {
      saved.push(b);
      return 'blob:console';
    });
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    render(LogConsole, { device: d });
    await fireEvent.input(screen.getByLabelText('Filter'), { target: { value: 'fits' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save…' }));
    expect(await saved[0]!.text()).toBe(`${new Date(AT + 2000).toISOString()} stdout fits: yes\n`);
  });
});
