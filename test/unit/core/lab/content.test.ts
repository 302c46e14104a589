import { describe, expect, it } from 'vitest';
import { pinnedReference, taggedReference } from '../../../../core/lab/content.js';
import type { LabSource } from '../../../../core/lab/load.js';

const D = `sha256:${'ab'.repeat(32)}`;
const registry: LabSource = { kind: 'registry', registry: 'registry.lab.example', namespace: 'flight/shared-types' };
const layout: LabSource = { kind: 'layout', dir: '/labs/bench/kit', given: './kit', namespace: 'flight/shared-types' };

// How a lab deploy's receipt names its source: the tag the lab file asked for beside the digest the lock pins.
describe('taggedReference', () => {
  it('names repository:tag@digest for a bundle the lab asks for by tag', () => {
    expect(taggedReference(registry, 'vita', { tag: '2026.11.01' }, D)).toBe(`registry.lab.example/flight/shared-types/bundles/vita:2026.11.01@${D}`);
  });

  it('is the pinned reference when the lab pins a digest itself (no tag to name)', () => {
    expect(taggedReference(registry, 'dreamcast', { digest: D }, D)).toBe(pinnedReference(registry, 'dreamcast', D));
    expect(taggedReference(registry, 'dreamcast', { digest: D }, D)).toBe(`registry.lab.example/flight/shared-types/bundles/dreamcast@${D}`);
  });

  it('names the layout folder, repository and tag for an oci: source', () => {
    expect(taggedReference(layout, 'vita', { tag: 'latest' }, D)).toBe(`oci:/labs/bench/kit:flight/shared-types/bundles/vita:latest@${D}`);
  });
});
