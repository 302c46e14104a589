/**
 * A lab's content: the reference of each platform's bundle (by tag for `lab lock`, by the locked digest
 * for everything else), and the payloads a lab's devices run, read verified from the content store.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import { checkSignaturePolicy, loadPolicy, type Policy, type PolicyVerdict } from '../kits/signatures.js';
import type { Connection, RegistryAccess } from '../oci/access.js';
import { MEDIA } from '../oci/manifest.js';
import { parseDigest, parseReference } from '../oci/reference.js';
import { payloadFromBytes, type Payload } from '../deploy/payload.js';
import { MAX_PAYLOAD_BYTES } from '../deploy/source.js';
import type { Lab, LabSource } from './load.js';
import type { LabBundle } from './schema.js';

/** The repository of a platform's bundle: `<namespace>/bundles/<platform>`. */
export function bundleRepository(source: LabSource, platform: string): string {
  return `${source.namespace}/bundles/${platform}`;
}

/** A bundle reference as the lab asks for it (tag or digest). */
export function requestedReference(source: LabSource, platform: string, want: LabBundle): string {
  const repo = bundleRepository(source, platform);
  if (source.kind === 'registry') return `${source.registry}/${repo}${'tag' in want ? `:${want.tag}` : `@${want.digest}`}`;
  return 'tag' in want ? `oci:${source.dir}:${repo}:${want.tag}` : `oci:${source.dir}@${want.digest}`;
}

/** The bundle pinned to its locked digest. */
export function pinnedReference(source: LabSource, platform: string, digest: string): string {
  return source.kind === 'registry' ? `${source.registry}/${bundleRepository(source, platform)}@${digest}` : `oci:${source.dir}@${digest}`;
}

/**
 * How a receipt names the bundle a lab deploy flashed: the tag the lab file asked for together with the
 * digest the lock pins (`host/repo:tag@digest`, the digest is what was pulled); the pinned reference when
 * the lab pins a digest itself.
 */
export function taggedReference(source: LabSource, platform: string, requested: LabBundle, digest: string): string {
  if (!('tag' in requested)) return pinnedReference(source, platform, digest);
  const named = requestedReference(source, platform, requested);
  return `${named}@${digest}`;
}

/** The pinned bundle as the lock records it: an oci: folder as the lab file writes it (informational; commands pin with pinnedReference). */
export function lockedReference(source: LabSource, platform: string, digest: string): string {
  return source.kind === 'registry' ? pinnedReference(source, platform, digest) : `oci:${source.given}@${digest}`;
}

/** The lab's signature policy: its own file, else the default (<config>/policy.json when it exists). */
export function labPolicy(lab: Lab, paths: FlightDeckPaths): Promise<Policy | undefined> {
  return loadPolicy(paths, lab.policy);
}

export interface PinnedBundle {
  reference: string;
  digest: string;
  /** Null for an oci: source (the policy applies to what comes from a registry, as for deploy). */
  verdict: PolicyVerdict | null;
  /** The bundle's payload for a module ('' = the first the bundle lists). */
  payload(module: string): Promise<Payload>;
}

/**
 * Bring a pinned bundle into the content store (from the registry, the oci: source, or with `offline`
 * only from the store, e.g. an imported kit), apply the signature policy, and read its bundle layer
 * verified (BLOB_CORRUPT) once for every module asked for.
 */
export async function openBundle(
  registry: RegistryAccess,
  reference: string,
  policy: Policy | undefined,
  conn: Connection,
  signal: AbortSignal | undefined,
): Promise<PinnedBundle> {
  // Parsed first: a lab file names its bundles in full, so a short name is REFERENCE_INVALID before any
  // download (localContent alone would expand it through registries.conf aliases, as `pull` does).
  const parsed = parseReference(reference);
  const pulled = await registry.localContent(reference, conn, signal);
  const verdict = parsed.kind === 'registry' ? await checkSignaturePolicy(registry, policy, parsed, pulled.digest, conn) : null;
  const layer = pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip);
  if (!layer) {
    throw new FlightDeckError('PAYLOAD_INVALID', `${reference} holds no tar+gzip bundle layer; a lab's bundles are <namespace>/bundles/<platform>.`, {
      details: { reference },
    });
  }
  if (layer.size > MAX_PAYLOAD_BYTES) {
    throw new FlightDeckError(
      'PAYLOAD_INVALID',
      `${reference}: layer ${layer.digest} is ${layer.size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte payload cap.`,
      {
        details: { reference },
      },
    );
  }
  let bytes: Buffer | undefined;
  const { algorithm, hex } = parseDigest(layer.digest);
  return {
    reference,
    digest: pulled.digest,
    verdict,
    async payload(module) {
      bytes ??= await pulled.store.readBlobVerified(layer, MAX_PAYLOAD_BYTES);
      const p = await payloadFromBytes(bytes, pulled.store.blobPath(layer.digest), module || undefined, algorithm === 'sha256' ? hex : undefined);
      const inside = p.name.includes('!') ? p.name.slice(p.name.indexOf('!')) : '';
      return { ...p, name: `${reference}${inside}`, source: { reference: pulled.reference, manifestDigest: pulled.digest } };
    },
  };
}

/** The file inside the bundle a payload came from (`…!wasm/x.wasm` → `wasm/x.wasm`). */
export function payloadFile(p: Payload): string {
  return p.name.includes('!') ? p.name.slice(p.name.lastIndexOf('!') + 1) : p.name;
}
