/**
 * `flightdeck ls oci:<dir>` and Browse of an `oci:` folder: the repositories and tags of an image layout,
 * from the ref names of its index (`repo/path:tag`, as skopeo and the demo kit write them).
 */
import { FlightDeckError } from '../errors.js';
import { OciLayout } from './layout.js';
import { ANNOTATION_REF_NAME } from './manifest.js';
import { parseLayoutReference } from './reference.js';

export interface LayoutListing {
  registry: string;
  repository?: string;
  kind: 'repositories' | 'tags';
  items: string[];
  note?: string;
}

/** `repo/path:tag` → repository and tag; a bare tag (no repository) has repository ''. */
function split(name: string): { repository: string; tag: string } {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: '', tag: name };
}

/**
 * `oci:<dir>`: its repositories; `oci:<dir>:<repo>`: the tags of that repository, or the repositories
 * under it when it is a namespace (as for a registry); NOT_FOUND naming the folder otherwise.
 */
export async function listLayout(target: string): Promise<LayoutListing> {
  const ref = parseLayoutReference(target.trim().replace(/\/+$/, ''));
  if (ref.digest)
    throw new FlightDeckError('REFERENCE_INVALID', `${target}: list a folder (oci:<dir>) or a repository in it (oci:<dir>:<repo>), not a digest.`);
  const layout = await OciLayout.open(ref.dir, { create: false });
  const registry = `oci:${ref.dir}`;
  const names = (await layout.readIndex()).manifests.flatMap((e) => {
    const name = e.annotations?.[ANNOTATION_REF_NAME];
    return name ? [split(name)] : [];
  });
  const repos = [...new Set(names.map((n) => n.repository).filter(Boolean))].sort();
  if (!ref.tag) {
    const bare = names.filter((n) => !n.repository).map((n) => n.tag);
    // A layout of bare tags (skopeo's oci:dir:tag) has no repositories: its tags are what there is.
    if (repos.length === 0 && bare.length) return { registry, kind: 'tags', items: [...new Set(bare)].sort() };
    return { registry, kind: 'repositories', items: repos };
  }
  const repository = ref.tag.replace(/\/+$/, '');
  const tags = names.filter((n) => n.repository === repository).map((n) => n.tag);
  if (tags.length) return { registry, repository, kind: 'tags', items: [...new Set(tags)].sort() };
  const under = repos.filter((r) => r.startsWith(`${repository}/`));
  if (under.length) return { registry, repository, kind: 'repositories', items: under };
  throw new FlightDeckError('NOT_FOUND', `${repository} is not a repository in ${layout.root}.`, {
    hint: `List what the folder holds with \`flightdeck ls ${registry}\`.`,
    details: { reference: target.slice(0, 300) },
  });
}
