/**
 * The Flight master manifest (`flight/shared-types/manifest:latest`): an artifact whose JSON layers
 * catalogue the published artifacts. It is pulled (verified) into the store like any artifact; its JSON
 * documents are returned with the artifacts they name, each as the `repository:tag` it is published under
 * with the digest it pins as a separate field.
 *
 * A Flight master document lists `artifacts: [{ repository, tag, digest?, category, platforms }]` (as
 * `scripts/build-demo-kit.mjs` and the Flight publishing plan write it). A document without that list (an
 * older or foreign one) still gives every string in it that is a reference (`host/repo:tag[@digest]`);
 * a bare digest is not a reference and is not listed on its own.
 */
import { FlightDeckError } from '../errors.js';
import type { OciLayout } from './layout.js';
import { ANNOTATION_TITLE } from './manifest.js';
import { pull, type ContentSource } from './pull.js';
import { formatReference, isDigest, isRepository, isTag, parseRegistryReference, type RegistryReference } from './reference.js';
import type { MasterManifestInfo } from './schema.js';

export const MASTER_REFERENCE = 'flight/shared-types/manifest:latest';
const MAX_JSON = 4 * 1024 * 1024;

export interface MasterManifest {
  reference: string;
  digest: string;
  annotations: Record<string, string>;
  documents: Array<{ title: string; mediaType: string; content: unknown }>;
  /** The artifacts' `host/repository:tag` references (host-less ones are completed with the registry), sorted. */
  artifacts: string[];
  /** One entry per artifact: where it is published (`host/repository:tag`) and the digest the document pins, if any. */
  entries: MasterEntry[];
}

/** One artifact of the master manifest (core/oci/schema.ts): `reference` is `host/repository:tag`, or `host/repository@digest` when the document names no tag. */
export type MasterEntry = MasterManifestInfo['entries'][number];

/** The `artifacts[]` of a Flight master document, entry by entry; entries that are not one are skipped (the scan still sees their strings). */
function flightEntries(content: unknown, registry: string): MasterEntry[] {
  const list = (content as { artifacts?: unknown } | null)?.artifacts;
  if (!Array.isArray(list)) return [];
  const out: MasterEntry[] = [];
  for (const a of list as unknown[]) {
    if (!a || typeof a !== 'object') continue;
    const { repository, tag, digest, category, platforms } = a as Record<string, unknown>;
    if (typeof repository !== 'string' || !isRepository(repository)) continue;
    const t = typeof tag === 'string' && isTag(tag) ? tag : null;
    const d = typeof digest === 'string' && isDigest(digest) ? digest : null;
    if (!t && !d) continue;
    out.push({
      reference: `${registry}/${repository}${t ? `:${t}` : `@${d!}`}`,
      repository,
      tag: t,
      digest: d,
      category: typeof category === 'string' ? category : null,
      platforms: Array.isArray(platforms) ? platforms.filter((p): p is string => typeof p === 'string') : [],
    });
  }
  return out;
}

/** An entry for a reference string found in a document (no category or platforms known). */
function entryOf(text: string): MasterEntry {
  const ref = parseRegistryReference(text);
  return {
    reference: formatReference({ ...ref, digest: ref.tag ? undefined : ref.digest }),
    repository: ref.repository,
    tag: ref.tag ?? null,
    digest: ref.digest ?? null,
    category: null,
    platforms: [],
  };
}

function collectReferences(value: unknown, registry: string, out: Set<string>, depth = 0): void {
  if (depth > 32) return;
  if (typeof value === 'string') {
    const text = value.trim().replace(/^(oci|https?):\/\//, '');
    // A digest alone ("sha256:…") is what an entry pins, not a reference of its own.
    if (isDigest(text)) return;
    for (const candidate of [text, `${registry}/${text}`]) {
      if (!candidate.includes('/') || !/[:@]/.test(candidate.slice(candidate.lastIndexOf('/')))) continue;
      try {
        const ref = parseRegistryReference(candidate);
        out.add(formatReference(ref));
        return;
      } catch {
        // not a reference
      }
    }
  } else if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, registry, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectReferences(v, registry, out, depth + 1);
  }
}

export async function readMaster(source: ContentSource, store: OciLayout, ref: RegistryReference, signal?: AbortSignal): Promise<MasterManifest> {
  const pulled = await pull(source, store, ref, { signal });
  const documents: MasterManifest['documents'] = [];
  const artifacts = new Set<string>();
  const entries = new Map<string, MasterEntry>();
  for (const layer of pulled.layers) {
    const title = layer.annotations?.[ANNOTATION_TITLE] ?? layer.digest;
    if (!/json/i.test(layer.mediaType) && !title.endsWith('.json')) continue;
    if (layer.size > MAX_JSON) continue;
    let content: unknown;
    try {
      content = JSON.parse((await store.readBlob(layer.digest, MAX_JSON)).toString('utf8'));
    } catch (err) {
      // A stored copy damaged on disk is an error to report, not a document to skip.
      if (err instanceof FlightDeckError && err.code === 'BLOB_CORRUPT') throw err;
      continue;
    }
    documents.push({ title, mediaType: layer.mediaType, content });
    for (const e of flightEntries(content, ref.registry)) if (!entries.has(e.reference)) entries.set(e.reference, e);
    collectReferences(content, ref.registry, artifacts);
  }
  // Reference strings the structured entries do not already name (by repository:tag, or by digest).
  for (const text of artifacts) {
    const e = entryOf(text);
    const named = [...entries.values()].some(
      (x) => x.repository === e.repository && ((e.tag && x.tag === e.tag) || (!e.tag && e.digest && x.digest === e.digest)),
    );
    if (!named && !entries.has(e.reference)) entries.set(e.reference, e);
  }
  const sorted = [...entries.values()].sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
  return {
    reference: pulled.reference,
    digest: pulled.digest,
    annotations: pulled.annotations,
    documents,
    artifacts: sorted.map((e) => e.reference),
    entries: sorted,
  };
}
