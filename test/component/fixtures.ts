import type { PlatformEntry, SourcesList } from '../../core/api/contract.js';

/**
 * Shared answers of the fake api (fake-api.ts) for component tests: a platform entry as platforms.list
 * gives it, and the app's sources as sources.list gives them.
 */
export function platformEntry(id: string, name: string, opts: { budget?: number; threads?: number } = {}): PlatformEntry {
  const budget = opts.budget ?? 1 << 20;
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
  return {
    profile: {
      id,
      name,
      memory: { total: budget + (1 << 20), runtimeReserve: 1 << 20, fixed: true },
      threads: { max: opts.threads ?? 1 },
      features,
      componentModel: 'none',
    },
    budgetBytes: budget,
    source: 'builtin',
  };
}

export const DEMO_DIR = '/opt/flightdeck/assets/demo-kit';
export const demoRef = (repo: string) => `oci:${DEMO_DIR}:flight/shared-types/${repo}:latest`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** A first run: the demo kit with two bundles, a single module and the master manifest; an empty store. */
export function demoSources(extra: Partial<SourcesList> = {}): SourcesList {
  const artifact = (repo: string, kind: 'bundle' | 'wasm' | 'other', c: string, platform?: string) => ({
    reference: demoRef(repo),
    name: `flight/shared-types/${repo}:latest`,
    repository: `flight/shared-types/${repo}`,
    tags: ['latest', '2026.11.01'],
    digest: digest(c),
    kind,
    ...(platform ? { platform } : {}),
    offline: false,
  });
  return {
    firstRun: true,
    sources: [
      {
        id: 'demo',
        kind: 'demo',
        label: 'Demo kit',
        location: DEMO_DIR,
        artifacts: [
          artifact('bundles/vita', 'bundle', 'a', 'vita'),
          artifact('bundles/dreamcast', 'bundle', 'b', 'dreamcast'),
          artifact('wasm/memory-validation', 'wasm', 'c'),
          artifact('manifest', 'other', 'd'),
        ],
      },
      { id: 'store', kind: 'store', label: 'Content store', location: '/home/u/.local/share/flightdeck/store', artifacts: [] },
    ],
    ...extra,
  };
}
