/**
 * `kit build --lab FILE`: what a lab needs in an air-gapped room, as a selection for kit build — the lab's
 * source, its platforms, and exactly the bundle digests its lock pins (nothing else is added).
 */
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { bundleRepository } from './content.js';
import { labPath, loadLab } from './load.js';
import { readLock } from './lock.js';

export async function labKitSelection(file: string, paths: FlightDeckPaths) {
  const lab = await loadLab(labPath(process.cwd(), file), paths);
  const { lock } = await readLock(lab);
  const pins = new Map<string, { platform: string; digest: string; tag: string }>();
  for (const [platform, b] of Object.entries(lock.bundles).sort(([a], [c]) => (a < c ? -1 : 1))) {
    // A digest pinned without a tag is named pinned-<hex> in the kit (sha256-<hex> is the referrers tag schema).
    const tag = 'tag' in b.requested ? b.requested.tag : `pinned-${b.digest.slice(7, 23)}`;
    pins.set(bundleRepository(lab.source, platform), { platform, digest: b.digest, tag });
  }
  const from =
    lab.source.kind === 'registry' ? `${lab.source.registry}/${lab.source.namespace}` : `oci:${path.resolve(lab.source.dir)}:${lab.source.namespace}`;
  return { platforms: [...new Set([...pins.values()].map((p) => p.platform))], from, pins, policy: lab.policy };
}
