/**
 * Artifact references, validated against the distribution-spec grammar before any part of them is put
 * into a URL or a file path:
 *   host[:port]/repo[/more][:tag][@sha256:<64 hex>]     a registry artifact
 *   oci:<dir>[:tag|@digest]                              an OCI image layout on disk
 */
import { FlightDeckError } from '../errors.js';

export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const HOST_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(`^(?:${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_NAME = 255;

export interface RegistryReference {
  kind: 'registry';
  /** host[:port] as written (lower-cased host). */
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

export interface LayoutReference {
  kind: 'layout';
  dir: string;
  tag: string | undefined;
  digest: string | undefined;
}

export type Reference = RegistryReference | LayoutReference;

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

/** Throws DIGEST_INVALID unless `value` is `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`. */
export function parseDigest(value: string): { algorithm: DigestAlgorithm; hex: string } {
  if (!DIGEST_RE.test(value)) {
    throw new FlightDeckError('DIGEST_INVALID', `${JSON.stringify(value.slice(0, 140))} is not a valid digest.`, {
      details: { digest: value.slice(0, 200) },
    });
  }
  const [algorithm, hex] = value.split(':') as [DigestAlgorithm, string];
  return { algorithm, hex };
}

export function isTag(value: string): boolean {
  return TAG_RE.test(value);
}

export function isHost(value: string): boolean {
  return HOST_RE.test(value);
}

export function isRepository(value: string): boolean {
  return value.length > 0 && value.length <= MAX_NAME && value.split('/').every((c) => PATH_COMPONENT_RE.test(c));
}

function invalid(input: string, why: string): FlightDeckError {
  return new FlightDeckError('REFERENCE_INVALID', `Invalid reference ${JSON.stringify(input.slice(0, 300))}: ${why}.`, {
    details: { reference: input.slice(0, 300) },
  });
}

/** Split `name[:tag][@digest]` (name may contain `host:port`). */
function splitTagDigest(input: string, rest: string): { name: string; tag?: string; digest?: string } {
  let name = rest;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) throw invalid(input, `${JSON.stringify(digest.slice(0, 140))} is not a digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!isTag(tag)) throw invalid(input, `tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Parse `host[:port]/repo[:tag][@digest]`; tag and digest are optional (callers read neither as `latest`). */
export function parseRegistryReference(input: string): RegistryReference {
  const text = input.trim();
  if (text.length === 0) throw invalid(input, 'it is empty');
  if (/[\s\\?#]/.test(text) || text.includes('://')) throw invalid(input, 'write host/repo:tag without a scheme, spaces, `?` or `#`');
  const { name, tag, digest } = splitTagDigest(input, text);
  const slash = name.indexOf('/');
  if (slash < 0) throw invalid(input, 'it needs a registry host and a repository (host[:port]/repo)');
  const registry = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  if (!isHost(registry) || !(registry.includes('.') || registry.includes(':') || registry.toLowerCase() === 'localhost')) {
    throw invalid(input, `${JSON.stringify(registry)} is not a registry host (host.domain, host:port or localhost)`);
  }
  if (!isRepository(repository)) {
    throw invalid(input, `repository ${JSON.stringify(repository.slice(0, 260))} must be lower-case path components [a-z0-9._-] separated by /`);
  }
  return { kind: 'registry', registry: registry.toLowerCase(), repository, tag, digest };
}

/** An image-layout ref name (`org.opencontainers.image.ref.name`): a tag, or a path-like name such as `flight/shared-types/bundles/vita:latest`. */
const LAYOUT_REF_NAME = /^[A-Za-z0-9_][A-Za-z0-9._:@+/-]{0,511}$/;

/**
 * Parse `oci:<dir>[:ref|@digest]`. As skopeo does, the directory ends at the first colon (after a Windows
 * drive letter), so the ref may itself hold `/` and `:` (`oci:kit:flight/shared-types/bundles/vita:latest`).
 */
export function parseLayoutReference(input: string): LayoutReference {
  if (!input.startsWith('oci:')) throw invalid(input, 'a layout reference starts with oci:');
  let rest = input.slice(4);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && rest.slice(at + 1).includes(':') && !rest.slice(at + 1).includes('/')) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(input, `${JSON.stringify(digest.slice(0, 140))} is not a digest (sha256:<64 hex>)`);
  } else {
    const colon = rest.indexOf(':', /^[A-Za-z]:[\\/]/.test(rest) ? 2 : 0);
    if (colon > 0) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!LAYOUT_REF_NAME.test(tag)) throw invalid(input, `ref ${JSON.stringify(tag.slice(0, 140))} must match ${LAYOUT_REF_NAME.source}`);
    }
  }
  if (rest.length === 0) throw invalid(input, 'the layout directory is missing (oci:<dir>[:tag])');
  if (rest.includes('\0')) throw invalid(input, 'the directory contains a NUL byte');
  return { kind: 'layout', dir: rest, tag, digest };
}

export function parseReference(input: string): Reference {
  return input.startsWith('oci:') ? parseLayoutReference(input) : parseRegistryReference(input);
}

/** `REGISTRY[/REPO]` for `flightdeck ls`. */
export function parseRegistryTarget(input: string): { registry: string; repository: string | undefined } {
  const text = input.trim().replace(/\/+$/, '');
  const slash = text.indexOf('/');
  const registry = slash < 0 ? text : text.slice(0, slash);
  const repository = slash < 0 ? undefined : text.slice(slash + 1);
  if (!isHost(registry)) throw invalid(input, `${JSON.stringify(registry)} is not a registry host`);
  if (repository !== undefined && !isRepository(repository)) {
    throw invalid(input, `repository ${JSON.stringify(repository.slice(0, 260))} must be lower-case path components`);
  }
  return { registry: registry.toLowerCase(), repository };
}

/** The reference as text (`host/repo:tag@digest`, `oci:dir:tag`). */
export function formatReference(ref: Reference): string {
  const base = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : `oci:${ref.dir}`;
  return `${base}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** localhost registries default to plain HTTP, every other one to HTTPS (same rule as ORAS). */
export function registryBaseUrl(host: string, plainHttp: readonly string[] = []): string {
  const bare = host.replace(/:\d+$/, '');
  const local = bare === 'localhost' || bare === '127.0.0.1' || bare === '[::1]';
  return `${local || plainHttp.includes(host) ? 'http' : 'https'}://${host}`;
}

/** Docker's rule: the first path component names a registry when it has a dot or a port, or is localhost. */
export function isRegistryReference(target: string): boolean {
  const m = /^([^/]+)\/[^:@]+(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.exec(target);
  const host = m?.[1];
  return host !== undefined && !host.startsWith('.') && (host.includes('.') || host.includes(':') || host === 'localhost');
}
