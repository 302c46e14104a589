import type { SourceArtifact, SourcesList } from '../../../core/api/contract.js';

/** An artifact of a source, with the source's label, as the picker offers it. */
export interface Offered extends SourceArtifact {
  source: string;
  sourceKind: 'demo' | 'store' | 'registry';
}

/** A platform's group of the picker: its bundles, then single modules for any platform last. */
export interface PlatformGroup {
  platform: string | undefined;
  items: Offered[];
}

/** Deployable artifacts (bundles and .wasm modules) of every source, grouped by the platform they are annotated for. */
export function groupByPlatform(list: SourcesList | undefined): PlatformGroup[] {
  const offered: Offered[] = (list?.sources ?? []).flatMap((s) =>
    s.artifacts.filter((a) => a.kind !== 'other').map((a) => ({ ...a, source: s.label, sourceKind: s.kind })),
  );
  const platforms = [...new Set(offered.map((a) => a.platform))].sort((a, b) => (a === undefined ? 1 : b === undefined ? -1 : a.localeCompare(b)));
  return platforms.map((platform) => ({ platform, items: offered.filter((a) => a.platform === platform) }));
}
