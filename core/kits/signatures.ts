/**
 * Cosign signatures (`cosign sign --key`: ECDSA P-256 over the simple-signing JSON payload, stored as an
 * image manifest under the tag `sha256-<hex>.sig` of the signed repository, one layer per signature with
 * the base64 DER signature in the `dev.cosignproject.cosign/signature` annotation) and the signature
 * policy: which repositories must be signed, and by which public keys (docs/kits.md).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError } from '../errors.js';
import type { OciLayout } from '../oci/layout.js';
import { ANNOTATION_REF_NAME, parseManifest, type Descriptor, type Manifest } from '../oci/manifest.js';
import type { Connection, RegistryAccess } from '../oci/access.js';
import { parseDigest, type RegistryReference } from '../oci/reference.js';

export const COSIGN_PAYLOAD_MEDIA = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';
const MAX_PAYLOAD = 1024 * 1024;

/** Artifact type of a cosign signature attached as an OCI 1.1 referrer (`subject` = the signed manifest). */
export const COSIGN_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/** The tag cosign stores the signatures of `digest` under. */
export function signatureTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}.sig`;
}

/** The referrers tag schema: the index of `digest`'s referrers on a registry without the referrers API. */
export function referrersTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}`;
}

export interface CosignSignature {
  payload: Buffer;
  /** Base64 DER ECDSA signature from the layer annotation. */
  signature: string;
}

/** The signature layers of a cosign signature manifest; `read` returns a layer's verified bytes. */
export async function cosignSignatures(manifest: Manifest, read: (d: Descriptor) => Promise<Buffer>): Promise<CosignSignature[]> {
  if (manifest.kind !== 'manifest') return [];
  const out: CosignSignature[] = [];
  for (const layer of manifest.layers) {
    const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (layer.mediaType !== COSIGN_PAYLOAD_MEDIA || !signature || layer.size > MAX_PAYLOAD) continue;
    out.push({ payload: await read(layer), signature });
  }
  return out;
}

/**
 * The signatures held by a signature manifest (the `.sig` tag), or by the cosign signature referrers a
 * referrers index lists, stored in a layout. Each referrer is read once however often the index lists it.
 */
export async function signatureSet(layout: OciLayout, digest: string): Promise<CosignSignature[]> {
  const read = (d: Descriptor) => layout.readBlob(d.digest, MAX_PAYLOAD);
  const top = parseManifest(await layout.readBlob(digest), undefined, `oci:${layout.root}@${digest}`);
  if (top.kind === 'manifest') return cosignSignatures(top, read);
  const out: CosignSignature[] = [];
  const seen = new Set<string>();
  for (const child of top.manifests) {
    if (seen.has(child.digest)) continue;
    seen.add(child.digest);
    const m = parseManifest(await layout.readBlob(child.digest), child.mediaType, `oci:${layout.root}@${child.digest}`);
    if (m.kind === 'manifest' && (m.artifactType === COSIGN_SIG_ARTIFACT || m.config.mediaType === COSIGN_SIG_ARTIFACT))
      out.push(...(await cosignSignatures(m, read)));
  }
  return out;
}

/**
 * State shared by the `layoutSignatures` calls of one walk over a layout (kit verify calls it once per
 * ref): index.json read and mapped by ref name once, and each signature manifest or referrers index
 * read once, however many refs lead to it.
 */
export interface SignatureWalk {
  byRef?: Map<string, Descriptor>;
  sets?: Map<string, Promise<CosignSignature[]>>;
}

/**
 * Signatures of `name@digest` stored in a layout (a kit, or the content store): under
 * `<name>:sha256-<hex>.sig` (cosign) and `<name>:sha256-<hex>` (OCI referrers). Null when neither exists.
 */
export async function layoutSignatures(
  layout: OciLayout,
  name: string,
  digest: string,
  walk: SignatureWalk = {},
): Promise<{ refs: Array<{ ref: string; digest: string }>; signatures: CosignSignature[] } | null> {
  if (!walk.byRef) {
    walk.byRef = new Map();
    for (const e of (await layout.readIndex()).manifests) {
      const ref = e.annotations?.[ANNOTATION_REF_NAME];
      if (ref !== undefined && !walk.byRef.has(ref)) walk.byRef.set(ref, e);
    }
  }
  const sets = (walk.sets ??= new Map());
  const refs: Array<{ ref: string; digest: string }> = [];
  const signatures: CosignSignature[] = [];
  for (const ref of [`${name}:${signatureTag(digest)}`, `${name}:${referrersTag(digest)}`]) {
    const entry = walk.byRef.get(ref);
    if (!entry) continue;
    refs.push({ ref, digest: entry.digest });
    let set = sets.get(entry.digest);
    if (!set) {
      set = signatureSet(layout, entry.digest);
      sets.set(entry.digest, set);
    }
    signatures.push(...(await set));
  }
  return refs.length ? { refs, signatures } : null;
}

/** A tag cosign or the referrers tag schema uses (`sha256-<hex>[.sig]`): not an artifact of its own. */
export function isSignatureTag(tag: string): boolean {
  return /^sha(256|512)-[a-f0-9]+(\.sig)?$/.test(tag);
}

/** Names of the keys under which at least one signature verifies and whose payload names `digest`. */
export function verifiedBy(signatures: CosignSignature[], digest: string, keys: ReadonlyMap<string, KeyObject>): string[] {
  const names = new Set<string>();
  for (const s of signatures) {
    if (!payloadNames(s.payload, digest)) continue;
    const sig = Buffer.from(s.signature, 'base64');
    for (const [name, key] of keys) {
      try {
        if (verify('sha256', s.payload, key, sig)) names.add(name);
      } catch {
        // a malformed signature verifies under no key
      }
    }
  }
  return [...names].sort();
}

function payloadNames(payload: Buffer, digest: string): boolean {
  try {
    const json = JSON.parse(payload.toString('utf8')) as { critical?: { type?: unknown; image?: Record<string, unknown> } };
    return json.critical?.type === COSIGN_PAYLOAD_TYPE && json.critical.image?.['docker-manifest-digest'] === digest;
  } catch {
    return false;
  }
}

// --- policy ---------------------------------------------------------------------------------------

const PolicyFileSchema = z
  .object({
    $schema: z.string().optional(),
    /** name → PEM public key, or a path to a PEM file (relative to the policy file). */
    keys: z.record(z.string().regex(/^[\w.-]{1,64}$/), z.string().min(1)),
    rules: z.array(
      z
        .object({
          /** Registry host[:port]; omitted: any registry (and kits built from a layout). */
          registry: z.string().min(1).optional(),
          /** Repository glob: `*` matches within a path component, `**` across components. */
          repository: z.string().min(1),
          keys: z.array(z.string()).min(1),
        })
        .strict(),
    ),
  })
  .strict();

export interface PolicyRule {
  registry: string | undefined;
  repository: string;
  keys: string[];
  match: RegExp;
}

export interface Policy {
  file: string;
  keys: Map<string, KeyObject>;
  rules: PolicyRule[];
}

export const POLICY_FILE = 'policy.json';

function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*|\*/g, (m) => (m === '**' ? '.*' : '[^/]*'));
  return new RegExp(`^${re}$`);
}

/** Load the policy: `file`, else `<config>/policy.json` when it exists, else none (undefined). */
export async function loadPolicy(paths: FlightDeckPaths, file?: string): Promise<Policy | undefined> {
  const where = file ?? path.join(paths.config, POLICY_FILE);
  let text: string;
  try {
    text = await readFile(where, 'utf8');
  } catch (err) {
    if (!file && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read the signature policy ${where}: ${(err as Error).message}`, {
      cause: err,
      details: { file: where },
    });
  }
  const bad = (why: string) => new FlightDeckError('CONFIG_INVALID', `Signature policy ${where}: ${why}.`, { details: { file: where } });
  let parsed;
  try {
    parsed = PolicyFileSchema.parse(JSON.parse(text));
  } catch (err) {
    throw bad(err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message);
  }
  const keys = new Map<string, KeyObject>();
  for (const [name, value] of Object.entries(parsed.keys)) {
    const pem = value.includes('-----BEGIN') ? value : await readFile(path.resolve(path.dirname(where), value), 'utf8').catch(() => undefined);
    if (pem === undefined) throw bad(`key ${name}: cannot read ${value}`);
    try {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('not an ECDSA P-256 public key');
      keys.set(name, key);
    } catch (err) {
      throw bad(`key ${name}: ${(err as Error).message}`);
    }
  }
  const rules = parsed.rules.map((r) => {
    const unknown = r.keys.filter((k) => !keys.has(k));
    if (unknown.length) throw bad(`rule ${r.repository} names unknown key(s) ${unknown.join(', ')}`);
    return { registry: r.registry, repository: r.repository, keys: r.keys, match: glob(r.repository) };
  });
  return { file: where, keys, rules };
}

export interface PolicySubject {
  /** host[:port], or null for content from an OCI layout. */
  registry: string | null;
  repository: string;
  /** Digest of the manifest to be used (the one the signature must name). */
  digest: string;
}

export interface PolicyVerdict {
  /** The rule that applied, or null when the policy does not cover the repository. */
  rule: string | null;
  /** Keys (of the rule, or of the whole policy when no rule applies) that verified a signature. */
  verifiedBy: string[];
}

/**
 * Apply the signature policy to one payload before it is used (kit build, kit import, deploy). The first
 * rule matching the subject's registry and repository applies: without signatures it throws
 * SIGNATURE_REQUIRED; when none verifies under one of the rule's keys for this digest, SIGNATURE_INVALID.
 * `signatures` is null when no signature manifest exists. No policy, or no matching rule: no requirement.
 */
export function enforcePolicy(policy: Policy | undefined, subject: PolicySubject, signatures: CosignSignature[] | null): PolicyVerdict {
  const name = `${subject.registry ? `${subject.registry}/` : ''}${subject.repository}@${subject.digest}`;
  const rule = policy?.rules.find((r) => (r.registry === undefined || r.registry === subject.registry) && r.match.test(subject.repository));
  if (!policy || !rule) {
    return { rule: null, verifiedBy: policy && signatures ? verifiedBy(signatures, subject.digest, policy.keys) : [] };
  }
  const ruleName = `${rule.registry ? `${rule.registry}/` : ''}${rule.repository}`;
  if (!signatures || signatures.length === 0) {
    throw new FlightDeckError(
      'SIGNATURE_REQUIRED',
      `${name} is not signed, and the policy ${policy.file} requires a signature by ${rule.keys.join(' or ')} for ${ruleName}.`,
      {
        details: { subject: name, rule: ruleName, policy: policy.file },
      },
    );
  }
  const keys = new Map(rule.keys.map((k) => [k, policy.keys.get(k)!]));
  const ok = verifiedBy(signatures, subject.digest, keys);
  if (ok.length === 0) {
    throw new FlightDeckError(
      'SIGNATURE_INVALID',
      `${name} has ${signatures.length} signature(s), none valid for this digest under key ${rule.keys.join(' or ')} (policy ${policy.file}, rule ${ruleName}).`,
      {
        details: { subject: name, rule: ruleName, policy: policy.file },
      },
    );
  }
  return { rule: ruleName, verifiedBy: ok };
}

/**
 * The one call for `deploy`: apply the policy to `ref` at `digest` before flashing. Signatures are pulled
 * into the content store from the `.sig` tag and the referrers tag schema (`sha256-<hex>`); with
 * `conn.offline` they come from an imported kit, without any network call. No policy: no lookup at all.
 */
export async function checkSignaturePolicy(
  access: RegistryAccess,
  policy: Policy | undefined,
  ref: RegistryReference,
  digest: string,
  conn: Connection = {},
): Promise<PolicyVerdict> {
  const subject = { registry: ref.registry, repository: ref.repository, digest };
  if (!policy) return enforcePolicy(policy, subject, null);
  let found: CosignSignature[] | null = null;
  for (const tag of [signatureTag(digest), referrersTag(digest)]) {
    try {
      const pulled = await access.pullToStore(`${ref.registry}/${ref.repository}:${tag}`, conn);
      found = [...(found ?? []), ...(await signatureSet(pulled.store, pulled.digest))];
    } catch (err) {
      if (!(err instanceof FlightDeckError && (err.code === 'NOT_FOUND' || err.code === 'OFFLINE_MISS'))) throw err;
    }
  }
  return enforcePolicy(policy, subject, found);
}
