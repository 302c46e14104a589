import { describe, expect, it, vi } from 'vitest';
import { render, screen, fireEvent } from '@testing-library/svelte';
import { fake } from './fake-api.js';

vi.mock('../../renderer/src/lib/api.js', () => import('./fake-api.js'));
const { default: Registries } = await import('../../renderer/src/views/Registries.svelte');

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const layer = { mediaType: 'application/tar+gzip', digest: digest('a'), size: 2048, annotations: { 'org.opencontainers.image.title': 'flight-vita.tar.gz' } };

describe('Registries view', () => {
  it('browses repositories and tags, inspects, pulls with a byte progress bar and reloads the cache', async () => {
    let pulled = false;
    fake.reset({
      'credentials.list': () => ({ credentials: [{ registry: 'reg.example', kind: 'basic', source: 'keychain' }], problems: [] }),
      'cache.list': () => ({
        root: '/store',
        entries: pulled
          ? [
              {
                reference: 'reg.example/flight/bundles/vita:2026.11.01',
                digest: digest('m'),
                mediaType: 'application/vnd.oci.image.manifest.v1+json',
                size: 2500,
              },
            ]
          : [],
        totalBytes: pulled ? 2500 : 0,
        blobs: pulled ? 2 : 0,
      }),
      'registry.list': (input) =>
        (input as { target: string }).target === 'reg.example'
          ? { registry: 'reg.example', kind: 'repositories', items: ['flight/bundles/vita'] }
          : { registry: 'reg.example', repository: 'flight/bundles/vita', kind: 'tags', items: ['2026.10.01', '2026.11.01'] },
      'registry.inspect': () => ({
        reference: 'reg.example/flight/bundles/vita:2026.11.01',
        digest: digest('m'),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 400,
        annotations: { 'flight.target-platform': 'vita' },
        layers: [layer],
        manifests: [],
        totalSize: 2448,
      }),
      'registry.pull': (_input, opts) => {
        opts.onEvent?.({
          type: 'progress',
          task: 'blob',
          phase: 'bytes',
          digest: layer.digest,
          title: 'flight-vita.tar.gz',
          mediaType: layer.mediaType,
          done: 1024,
          total: 2048,
        });
        opts.onEvent?.({
          type: 'progress',
          task: 'blob',
          phase: 'done',
          digest: layer.digest,
          title: 'flight-vita.tar.gz',
          mediaType: layer.mediaType,
          done: 2048,
          total: 2048,
        });
        pulled = true;
        return {
          reference: 'reg.example/flight/bundles/vita:2026.11.01',
          digest: digest('m'),
          mediaType: 'x',
          annotations: {},
          layers: [layer],
          blobsDownloaded: 2,
          blobsSkipped: 0,
          bytesDownloaded: 2448,
          files: [],
          store: '/store',
        };
      },
    });
    const { container } = render(Registries);
    expect(await screen.findByText('Nothing pulled yet.')).toBeTruthy();
    expect(container.querySelector('datalist option')?.getAttribute('value')).toBe('reg.example');

    await fireEvent.input(screen.getByLabelText('Registry'), { target: { value: 'reg.example' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Browse' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'flight/bundles/vita' }));
    const tags = await screen.findAllByRole('button', { name: /^2026\./ });
    expect(tags.map((t) => t.textContent)).toEqual(['2026.11.01', '2026.10.01']);
    await fireEvent.click(tags[0]!);
    expect(await screen.findByText('flight-vita.tar.gz')).toBeTruthy();
    expect(screen.getByText('flight.target-platform')).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Pull' }));
    expect((await screen.findByRole('status')).textContent).toContain('Pulled 1 layers: 2 downloaded');
    expect(screen.getByRole('progressbar', { name: 'Pull progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(fake.calls.find((c) => c.method === 'registry.pull')?.input).toEqual({ reference: 'reg.example/flight/bundles/vita:2026.11.01' });
    expect(await screen.findByText('reg.example/flight/bundles/vita:2026.11.01')).toBeTruthy();
  });
});
