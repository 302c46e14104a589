/**
 * The Flight master manifest (`flight/shared-types/manifest:latest`): an artifact whose JSON layers
 * catalogue the published artifacts. It is pulled (verified) into the store like any artifact; its JSON
 * documents are returned with every artifact reference found in them.
 */
import { FlightDeckError } from '../errors.js';
import type { OciLayout } from './layout.js';
import { ANNOTATION_TITLE } from './manifest.js';
import { pull, type ContentSource } from './pull.js';
import { formatReference, parseRegistryReference, type RegistryReference } from './reference.js';

export const MASTER_REFERENCE = 'flight/shared-types/manifest:latest';
const MAX_JSON = 4 * 1024 * 1024;

export interface MasterManifest {
  reference: string;
  digest: string;
  annotations: Record<string, string>;
  documents: Array<{ title: string; mediaType: string; content: unknown }>;
  /** Artifact references named anywhere in the documents (host-less ones are completed with the registry). */
  artifacts: string[];
}

function collectReferences(value: unknown, registry: string, out: Set<string>, depth = 0): void {
  if (depth > 32) return;
  if (typeof value === 'string') {
    const text = value.trim().replace(/^(oci|https?):\/\//, '');
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
    collectReferences(content, ref.registry, artifacts);
  }
  return { reference: pulled.reference, digest: pulled.digest, annotations: pulled.annotations, documents, artifacts: [...artifacts].sort() };
}
