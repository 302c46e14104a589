import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { fake } from './fake-api.js';
import { demoSources } from './fixtures.js';
import type { CallOptions } from '../../core/api/client.js';

// "Open a file…" of the one source picker: in a browser the chosen file is sent in chunks (files.upload.*)
// and its path on the host fills the field; in the desktop window the file dialog gives the path itself.
const shell = vi.hoisted(() => ({ dialog: undefined as ((kind: 'payload' | 'kit') => Promise<string | null>) | undefined }));
vi.mock('../../renderer/src/lib/api.js', async () => {
  const real = await import('./fake-api.js');
  return {
    api: real.api,
    shell: 'browser',
    reveal: undefined,
    get openFile() {
      return shell.dialog;
    },
  };
});

const { default: SourcePicker } = await import('../../renderer/src/lib/SourcePicker.svelte');
const { sources } = await import('../../renderer/src/lib/sources.svelte.js');

const UPLOAD = 'ab'.repeat(16);
const WASM = Buffer.concat([Buffer.from('\0asm\x01\0\0\0'), Buffer.alloc(2500, 9)]);
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A host that takes chunks of `chunkBytes` and keeps what it got; `hold` makes chunks wait for their cancel. */
function host(opts: { chunkBytes: number; hold?: boolean }) {
  const got: Buffer[] = [];
  fake.reset({
    'sources.list': () => demoSources(),
    'files.upload.begin': () => ({ upload: UPLOAD, chunkBytes: opts.chunkBytes }),
    'files.upload.chunk': (input, call: CallOptions) => {
      const { offset, data } = input as { offset: number; data: string };
      if (opts.hold) return new Promise((_, reject) => call.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      got.push(Buffer.from(data, 'base64'));
      return { received: offset + got.at(-1)!.length };
    },
    'files.upload.finish': (input) => {
      const whole = Buffer.concat(got);
      return { path: `/data/uploads/${(input as { sha256: string }).sha256}/m.wasm`, name: 'm.wasm', size: whole.length, sha256: hex(whole) };
    },
    'files.upload.abort': () => ({}),
  });
  return got;
}

/** Choose `bytes` as `name` in the picker's (hidden) file input, as the browser's file chooser does. */
async function choose(id: string, bytes: Buffer, name: string) {
  const input = screen.getByTestId(`${id}-file-input`) as HTMLInputElement;
  Object.defineProperty(input, 'files', { value: [new File([new Uint8Array(bytes)], name)], configurable: true });
  await fireEvent.change(input);
}

const methods = () => fake.calls.map((c) => c.method).filter((m) => m.startsWith('files.'));

beforeEach(async () => {
  shell.dialog = undefined;
  host({ chunkBytes: 1024 });
  await sources.refresh();
});

describe('source picker: Open a file… in a browser', () => {
  it('sends the file in order in chunks with its sha256, then the field holds its path on the host', async () => {
    const got = host({ chunkBytes: 1024 });
    const picked: string[] = [];
    render(SourcePicker, { id: 'p', label: 'Bundle', onpick: (r: string) => picked.push(r) });
    const input = screen.getByTestId('p-file-input') as HTMLInputElement;
    expect(input.accept).toBe('.wasm,application/wasm,.tar.gz,.tgz,.gz,application/gzip');
    await choose('p', WASM, 'm.wasm');
    const field = screen.getByLabelText('Bundle') as HTMLInputElement;
    await waitFor(() => expect(field.value).toBe(`/data/uploads/${hex(WASM)}/m.wasm`));
    expect(Buffer.concat(got).equals(WASM)).toBe(true);
    expect(methods()).toEqual(['files.upload.begin', 'files.upload.chunk', 'files.upload.chunk', 'files.upload.chunk', 'files.upload.finish']);
    expect(fake.calls.filter((c) => c.method === 'files.upload.chunk').map((c) => (c.input as { offset: number }).offset)).toEqual([0, 1024, 2048]);
    expect(fake.calls.find((c) => c.method === 'files.upload.finish')?.input).toEqual({ upload: UPLOAD, sha256: hex(WASM) });
    expect(screen.getByTestId('p-opened').textContent).toMatch(new RegExp(`Opened m\\.wasm\\s+\\(2\\.45 KiB, sha256 ${hex(WASM).slice(0, 12)}…\\)`));
    expect(picked).toEqual([field.value]);
  });

  it('refuses a file of another kind by its first bytes, before anything is sent', async () => {
    render(SourcePicker, { id: 'p', label: 'Bundle' });
    await choose('p', Buffer.from('hello, not a module'), 'notes.wasm');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('INVALID_INPUT notes.wasm is not a .wasm module or a .tar.gz bundle.');
    expect(methods()).toEqual([]);
  });

  it('leaving the screen during an upload gives it up on the host', async () => {
    host({ chunkBytes: 1024, hold: true });
    const { unmount } = render(SourcePicker, { id: 'p', label: 'Bundle' });
    await choose('p', WASM, 'm.wasm');
    await screen.findByRole('progressbar', { name: 'Sending the file' });
    expect(screen.getByRole('button', { name: 'Cancel sending' })).toBeTruthy();
    await waitFor(() => expect(methods()).toContain('files.upload.chunk'));
    unmount();
    await waitFor(() => expect(methods()).toContain('files.upload.abort'));
    expect(fake.calls.find((c) => c.method === 'files.upload.abort')?.input).toEqual({ upload: UPLOAD });
    expect(methods()).not.toContain('files.upload.finish');
  });

  it('for a kit: a tar, no bundle list', async () => {
    render(SourcePicker, { id: 'k', label: 'Kit', accept: ['kit'] });
    expect((screen.getByTestId('k-file-input') as HTMLInputElement).accept).toBe('.tar,application/x-tar');
    expect(screen.queryByTestId('k-picker')).toBeNull();
    // A .wasm is not a kit.
    await choose('k', WASM, 'm.wasm');
    expect((await screen.findByRole('alert')).textContent).toContain('m.wasm is not an offline kit (.tar) (it looks like a .wasm module).');
  });
});

describe('source picker: Open a file… in the desktop window', () => {
  it('asks main’s file dialog for the kind the caller takes and uses the path, with no upload', async () => {
    const asked: string[] = [];
    shell.dialog = async (kind) => {
      asked.push(kind);
      return '/home/pilot/builds/m.wasm';
    };
    render(SourcePicker, { id: 'p', label: 'Bundle' });
    expect(screen.queryByTestId('p-file-input')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Open a file…' }));
    await waitFor(() => expect((screen.getByLabelText('Bundle') as HTMLInputElement).value).toBe('/home/pilot/builds/m.wasm'));
    expect(asked).toEqual(['payload']);
    expect(screen.getByTestId('p-opened').textContent).toContain('Opened m.wasm');
    expect(methods()).toEqual([]);
  });

  it('a cancelled dialog changes nothing; a kit picker asks for a kit', async () => {
    const asked: string[] = [];
    shell.dialog = async (kind) => {
      asked.push(kind);
      return null;
    };
    render(SourcePicker, { id: 'k', label: 'Kit', accept: ['kit'], value: '/media/usb/lab.tar' });
    await fireEvent.click(screen.getByRole('button', { name: 'Open a file…' }));
    await waitFor(() => expect(asked).toEqual(['kit']));
    expect((screen.getByLabelText('Kit') as HTMLInputElement).value).toBe('/media/usb/lab.tar');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
