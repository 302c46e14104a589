import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { listSources } from '../../../../core/sources/sources.js';
import type { Envelope, SourcesList } from '../../../../core/api/contract.js';
import { deployPorts } from '../../../../native-bridge/transports.js';
import { ROOT, runCli, tempHome } from '../../../support/cli.js';

// The app's own sources through the api contract, as the home screen and the source picker call them:
// the real demo kit, a real content store, and a copy of the demo kit with a corrupted manifest.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const VITA = `oci:${DEMO}:flight/shared-types/bundles/vita:latest`;

/** sources.list through the dispatcher, as the web host and Electron call it. */
async function list(handlers: ReturnType<typeof createHandlers>): Promise<SourcesList> {
  const r = (await dispatch(handlers, 'sources.list', {})) as Envelope<SourcesList>;
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

function api() {
  const home = tempHome();
  const paths = resolvePaths({ FLIGHTDECK_HOME: home });
  return { home, paths, handlers: createHandlers({ probes: [], deploy: deployPorts, paths }) };
}

describe('sources.list and sources.modules', () => {
  it('first run: the demo kit’s bundles by platform, an empty store, a bundle’s modules; what was read from the demo kit is offered once', async () => {
    const { handlers } = api();
    const first = { value: await list(handlers) };
    expect(first.value.firstRun).toBe(true);
    const demo = first.value.sources.find((s) => s.kind === 'demo')!;
    expect(demo.location).toBe(DEMO);
    const vita = demo.artifacts.find((a) => a.repository === 'flight/shared-types/bundles/vita')!;
    // Tags naming one manifest are merged, `latest` first; the reference is what check and deploy take.
    expect(vita).toMatchObject({ kind: 'bundle', platform: 'vita', tags: ['latest', '2026.11.01'], reference: VITA, offline: false });
    expect(demo.artifacts.find((a) => a.repository === 'flight/shared-types/bundles/dreamcast')?.platform).toBe('dreamcast');
    expect(demo.artifacts.find((a) => a.repository === 'flight/shared-types/wasm/memory-validation')).toMatchObject({ kind: 'wasm' });
    expect(demo.artifacts.find((a) => a.repository === 'flight/shared-types/manifest')).toMatchObject({ kind: 'other' });
    expect(first.value.sources.find((s) => s.kind === 'store')?.artifacts).toEqual([]);

    // The bundle's modules, in its own order, and the platform of its manifest.
    const modules = await dispatch(handlers, 'sources.modules', { reference: VITA });
    expect(modules).toMatchObject({ ok: true, value: { kind: 'bundle', platform: 'vita' } });
    const names = (modules as { value: { modules: Array<{ name: string }> } }).value.modules.map((m) => m.name);
    expect(names[0]).toBe('flight-memory-validation');
    expect(names).toContain('flight-session-threads');
    const wasm = await dispatch(handlers, 'sources.modules', { reference: `oci:${DEMO}:flight/shared-types/wasm/memory-validation:latest` });
    expect(wasm).toMatchObject({ ok: true, value: { kind: 'wasm', modules: [] } });

    // sources.modules brought the bundle into the store: the demo kit's bundle is not offered twice, and
    // content of the demo kit alone configures nothing (the home screen still leads with the demo kit).
    const after = { value: await list(handlers) };
    expect(after.value.firstRun).toBe(true);
    expect(after.value.sources.find((s) => s.kind === 'store')?.artifacts).toEqual([]);
  });

  it('a configured registry is listed to browse; a missing file gets a file hint', async () => {
    const { paths, handlers } = api();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(path.join(paths.config, 'config.json'), JSON.stringify({ registries: ['registry.example.com'] }));
    const configured = await list(handlers);
    expect(configured.firstRun).toBe(false);
    expect(configured.sources.find((s) => s.kind === 'registry')).toMatchObject({ label: 'registry.example.com', artifacts: [] });

    const missing = await dispatch(handlers, 'sources.modules', { reference: path.join(paths.data, 'nope.wasm') });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((missing as { error: { hint: string } }).error.hint).toMatch(/path/);
  });

  it('a kit built from the demo kit and imported: each store artifact is offered once, under one reference, with its kit tag', async () => {
    const { home, paths, handlers } = api();
    const kit = path.join(home, 'dc-kit');
    const env = { FLIGHTDECK_HOME: home };
    // kit build reads the demo kit's artifacts into the store by digest; kit import adds them under `repo:tag`.
    const built = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', `oci:${DEMO}`, '--tag', '2026.11.01', '-o', kit, '--json'], {
      env,
      timeoutMs: 60_000,
    });
    expect(built.code, built.stderr).toBe(0);
    const imported = await runCli(['kit', 'import', kit, '--json'], { env, timeoutMs: 60_000 });
    expect(imported.code, imported.stderr).toBe(0);
    const store = (await list(handlers)).sources.find((s) => s.kind === 'store')!;
    const references = store.artifacts.map((a) => a.reference);
    expect(references.length).toBeGreaterThan(0);
    expect(new Set(references).size).toBe(references.length);
    const dreamcast = store.artifacts.find((a) => a.platform === 'dreamcast')!;
    expect(dreamcast).toMatchObject({ repository: 'flight/shared-types/bundles/dreamcast', tags: ['2026.11.01'], kind: 'bundle' });
    expect(dreamcast.reference).toBe(`oci:${path.join(paths.data, 'store')}@${dreamcast.digest}`);
    // Nothing of the store is offered as a second copy of a demo-kit artifact by an `oci:<demo>@digest` name.
    expect(store.artifacts.some((a) => a.repository.startsWith(`oci:${DEMO}`))).toBe(false);
  });

  it('a layout with a corrupted manifest: that artifact is left out, the rest listed, nothing thrown', async () => {
    const { paths } = api();
    const copy = path.join(paths.data, 'kit');
    cpSync(DEMO, copy, { recursive: true });
    const index = JSON.parse(readFileSync(path.join(copy, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    const vita = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name']?.endsWith('bundles/vita:latest'))!;
    writeFileSync(path.join(copy, 'blobs', 'sha256', vita.digest.slice(7)), '{"schemaVersion":2,"layers":[]} tampered');
    const listed = await listSources(paths, copy);
    const demo = listed.sources.find((s) => s.kind === 'demo')!;
    expect(demo.artifacts.some((a) => a.repository === 'flight/shared-types/bundles/vita')).toBe(false);
    expect(demo.artifacts.some((a) => a.repository === 'flight/shared-types/bundles/dreamcast')).toBe(true);
    // A folder that is no layout at all is a note, not a failure.
    const none = await listSources(paths, path.join(paths.data, 'absent'));
    expect(none.sources.find((s) => s.kind === 'demo')).toMatchObject({ artifacts: [], note: expect.stringContaining('LAYOUT_INVALID') });
  });
});
