/**
 * The app's own sources of bundles, listed without typing anything: the demo kit shipped with the app, the
 * local content store (pulled artifacts and imported kits) and the configured registries (browsed on
 * demand). Every manifest is read verified (OciLayout.readBlob) and parsed strictly; an unreadable entry is
 * left out, never trusted.
 */
// Static: the CLI bundle runs through vm.Script (cli/load-main.ts), where a dynamic import() fails.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { loadConfig, registryHosts } from '../config/config.js';
import { FlightDeckError } from '../errors.js';
import { OciLayout, type IndexEntry } from '../oci/layout.js';
import { ANNOTATION_REF_NAME, MEDIA, parseManifest } from '../oci/manifest.js';
import { openStore } from '../oci/cache.js';
import { isContentReference, type RegistryAccess } from '../oci/access.js';
import { parseRegistryReference } from '../oci/reference.js';
import { MAX_PAYLOAD_BYTES } from '../deploy/source.js';
import { bundleModules } from '../deploy/payload.js';
import { MISSING_FILE_HINT } from '../wasm/target.js';
import type { ArtifactKind, BundleModules, Source, SourceArtifact, SourcesList } from './schema.js';

/** The annotation a Flight bundle carries for the platform it was built for. */
export const ANNOTATION_TARGET_PLATFORM = 'flight.target-platform';
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.flight.bundle.v1';
/** Entries read per source: a store of thousands of artifacts still answers quickly. */
const MAX_ENTRIES = 2000;

const WASM_TYPES: readonly string[] = [MEDIA.wasmLayer, MEDIA.wasm];

/** `latest` first, then date-like tags newest first, then the rest sorted. */
export function sortTags(tags: string[]): string[] {
  return [...new Set(tags)].sort((a, b) => (a === 'latest' ? -1 : b === 'latest' ? 1 : b.localeCompare(a)));
}

/** `repo/path:tag` → repository and tag (the tag is after the last colon that follows the last slash). */
function splitName(name: string): { repository: string; tag: string | undefined } {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name, tag: undefined };
}

interface Described {
  entry: IndexEntry;
  kind: ArtifactKind;
  platform: string | undefined;
}

async function describe(layout: OciLayout, entry: IndexEntry): Promise<Described | undefined> {
  try {
    const manifest = parseManifest(await layout.readBlob(entry.digest), entry.mediaType || undefined, entry.digest);
    if (manifest.kind !== 'manifest') return { entry, kind: 'other', platform: undefined };
    const platform = manifest.annotations[ANNOTATION_TARGET_PLATFORM];
    const tarLayer = manifest.layers.some((l) => l.mediaType === MEDIA.tarGzip);
    const kind: ArtifactKind = manifest.layers.some((l) => WASM_TYPES.includes(l.mediaType))
      ? 'wasm'
      : (manifest.artifactType === BUNDLE_ARTIFACT_TYPE || platform) && tarLayer
        ? 'bundle'
        : 'other';
    return { entry, kind, platform: platform && /^[a-z0-9][a-z0-9.-]{0,62}$/.test(platform) ? platform : undefined };
  } catch {
    // A manifest that is missing, corrupt (quarantined by readBlob in the store) or not one: not offered.
    return undefined;
  }
}

/**
 * The artifacts of a layout, one per manifest and repository (tags naming the same manifest merged).
 * `reference` builds what check and deploy take for a repository, tag and digest.
 */
async function layoutArtifacts(
  layout: OciLayout,
  reference: (name: { repository: string; tag: string | undefined; raw: string }, digest: string) => { reference: string; offline: boolean },
): Promise<SourceArtifact[]> {
  const { manifests } = await layout.readIndex();
  const groups = new Map<string, { repository: string; tags: string[]; raw: string[]; described: Described }>();
  const seen = new Map<string, Described | undefined>();
  for (const entry of manifests.slice(0, MAX_ENTRIES)) {
    if (!seen.has(entry.digest)) seen.set(entry.digest, await describe(layout, entry));
    const described = seen.get(entry.digest);
    if (!described) continue;
    const raw = entry.annotations?.[ANNOTATION_REF_NAME] ?? entry.digest;
    const { repository, tag } = raw.startsWith('sha256:') ? { repository: raw, tag: undefined } : splitName(raw);
    const key = `${repository}@${entry.digest}`;
    const group = groups.get(key) ?? { repository, tags: [], raw: [], described };
    if (tag) group.tags.push(tag);
    group.raw.push(raw);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => {
      const tags = sortTags(g.tags);
      const ref = reference({ repository: g.repository, tag: tags[0], raw: g.raw[0]! }, g.described.entry.digest);
      return {
        ...ref,
        name: tags[0] ? `${g.repository}:${tags[0]}` : g.repository,
        repository: g.repository,
        tags,
        digest: g.described.entry.digest,
        kind: g.described.kind,
        ...(g.described.platform ? { platform: g.described.platform } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One artifact per reference: names of one manifest that do not resolve by name (an imported kit's
 * `repo:tag`, a digest pulled from an `oci:` layout) all become `oci:<store>@<digest>`; the named one is kept,
 * with the tags of the others.
 */
function uniqueReferences(artifacts: SourceArtifact[]): SourceArtifact[] {
  const byReference = new Map<string, SourceArtifact>();
  for (const a of artifacts) {
    const seen = byReference.get(a.reference);
    if (!seen) {
      byReference.set(a.reference, a);
      continue;
    }
    const named = seen.tags.length >= a.tags.length ? seen : a;
    byReference.set(a.reference, { ...named, tags: sortTags([...new Set([...seen.tags, ...a.tags])]) });
  }
  return [...byReference.values()];
}

/** Demo kit, content store and configured registries, as the source picker and the home screen show them. */
export async function listSources(paths: FlightDeckPaths, demoKit: string): Promise<SourcesList> {
  const sources: Source[] = [];
  const note = (err: unknown) => (err instanceof FlightDeckError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err));

  const demo: Source = { id: 'demo', kind: 'demo', label: 'Demo kit', location: demoKit, artifacts: [] };
  try {
    const layout = await OciLayout.open(demoKit, { create: false });
    demo.artifacts = await layoutArtifacts(layout, (n) => ({ reference: `oci:${layout.root}:${n.tag ? `${n.repository}:${n.tag}` : n.raw}`, offline: false }));
  } catch (err) {
    demo.note = note(err);
  }
  sources.push(demo);

  const local: Source = { id: 'store', kind: 'store', label: 'Content store', location: '', artifacts: [] };
  try {
    const store = await openStore(paths);
    local.location = store.root;
    const demoRoot = demo.artifacts.length ? `oci:${path.resolve(demoKit)}` : undefined;
    const pulled = await layoutArtifacts(store, (n, digest) => {
      // A registry reference resolves from the store with `offline` (as an imported kit is used); anything
      // else (an `oci:` pull, a bare digest) by digest in the store.
      try {
        if (n.tag) {
          parseRegistryReference(n.raw);
          return { reference: n.raw, offline: true };
        }
      } catch {
        // not a registry reference
      }
      return { reference: `oci:${store.root}@${digest}`, offline: false };
    });
    // What was pulled from the demo kit (by tag or by digest) is offered once, as the demo kit's.
    const demoDigests = new Set(demo.artifacts.map((a) => a.digest));
    const fromDemo = (a: SourceArtifact) =>
      demoRoot !== undefined && (a.repository.startsWith(`${demoRoot}:`) || a.repository.startsWith(`${demoRoot}@`)) && demoDigests.has(a.digest);
    local.artifacts = uniqueReferences(pulled.filter((a) => !fromDemo(a)));
  } catch (err) {
    local.note = note(err);
  }
  sources.push(local);

  const config = await loadConfig(paths);
  for (const host of new Set(registryHosts(config))) {
    sources.push({ id: `registry:${host}`, kind: 'registry', label: host, location: host, artifacts: [], note: 'Browse it under Registries & bundles.' });
  }
  return { sources, firstRun: config.registries.length === 0 && local.artifacts.length === 0 };
}

/**
 * The modules of a bundle (a file path, `oci:` or registry reference), for the deploy form's Module list.
 * References are brought into the content store first and read verified, as deploy reads them.
 */
export async function listModules(registry: RegistryAccess, reference: string, offline: boolean, signal?: AbortSignal): Promise<BundleModules> {
  const aliased = isContentReference(reference) ? undefined : await registry.aliasFor(reference);
  if (aliased) reference = aliased;
  else if (!isContentReference(reference)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(reference);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FlightDeckError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `Cannot read ${reference}: ${(err as Error).message}`, {
        ...(code === 'ENOENT' ? { hint: MISSING_FILE_HINT } : {}),
        details: { path: reference },
      });
    }
    return { reference, ...(await bundleModules(bytes, reference)) };
  }
  const pulled = await registry.localContent(reference, { offline }, signal);
  const wasm = pulled.layers.find((l) => WASM_TYPES.includes(l.mediaType));
  if (wasm) return { reference, kind: 'wasm', modules: [] };
  const tar = pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip);
  if (!tar) return { reference, kind: 'other', modules: [] };
  const bytes = await pulled.store.readBlobVerified(tar, MAX_PAYLOAD_BYTES);
  return { reference, ...(await bundleModules(bytes, reference)) };
}
