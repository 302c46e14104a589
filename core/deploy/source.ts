/**
 * What `deploy PAYLOAD` sends: a file path, or a registry / `oci:` reference brought into the verified
 * content store first (core/oci/access.ts, `localContent`), its WASM layer or its bundle layer.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import { checkSignaturePolicy, loadPolicy } from '../kits/signatures.js';
import { isContentReference, type RegistryAccess } from '../oci/access.js';
import { MEDIA } from '../oci/manifest.js';
import { parseDigest, parseReference } from '../oci/reference.js';
import { loadPayload, payloadFromBytes, type Payload } from './payload.js';

/** Largest layer deploy reads into memory (the device protocol takes payloads far smaller than this). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

/**
 * A file path, or a registry / `oci:` reference pulled into the verified content store first: its WASM
 * layer, or its bundle layer (one module picked with `module`).
 */
export async function resolvePayload(
  registry: RegistryAccess,
  paths: FlightDeckPaths,
  ref: string,
  module: string | undefined,
  offline: boolean,
  signal: AbortSignal | undefined,
): Promise<Payload> {
  if (!isContentReference(ref)) {
    // A short name with a registries.conf alias (and no such file) is the alias's reference.
    const aliased = await registry.aliasFor(ref);
    if (!aliased) return loadPayload(ref, module);
    ref = aliased;
  }
  const conn = { offline };
  // Not hashed on pull's skip path: the layer is read (and verified) from the store just below.
  const pulled = await registry.localContent(ref, conn, signal);
  // The signature policy (docs/kits.md) applies to what comes from a registry, as for `kit build`.
  const parsed = parseReference(ref);
  if (parsed.kind === 'registry') await checkSignaturePolicy(registry, await loadPolicy(paths), parsed, pulled.digest, conn);
  const wasmLayer = pulled.layers.find((l) => ([MEDIA.wasmLayer, MEDIA.wasm] as string[]).includes(l.mediaType));
  const layer = module ? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip) : (wasmLayer ?? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip));
  if (!layer) {
    throw new FlightDeckError('PAYLOAD_INVALID', `${ref} holds no WASM module or tar+gzip bundle layer to deploy.`, {
      hint: 'Deploy a wasm/<name> or bundles/<platform> artifact, e.g. flight/shared-types/bundles/vita:latest.',
      details: { reference: ref },
    });
  }
  // Read into memory and verified (BLOB_CORRUPT, quarantined) before anything reaches a device.
  if (layer.size > MAX_PAYLOAD_BYTES) {
    throw new FlightDeckError('PAYLOAD_INVALID', `${ref}: layer ${layer.digest} is ${layer.size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte payload cap.`, {
      details: { reference: ref },
    });
  }
  const bytes = await pulled.store.readBlobVerified(layer, MAX_PAYLOAD_BYTES);
  const { algorithm, hex } = parseDigest(layer.digest);
  const p = await payloadFromBytes(bytes, pulled.store.blobPath(layer.digest), module, algorithm === 'sha256' ? hex : undefined);
  const inside = p.name.includes('!') ? p.name.slice(p.name.indexOf('!')) : '';
  return { ...p, name: `${ref}${inside}`, source: { reference: pulled.reference, manifestDigest: pulled.digest } };
}
