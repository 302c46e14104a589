/**
 * Registry client for any OCI distribution-spec registry (as oras-go's `registry/remote/repository.go`):
 * the endpoints (API check, manifests with a 4 MiB cap, blobs, referrers, tags and catalog with Link
 * pagination, and the push side: POST then PUT, chunked PATCH, HEAD skip, cross-repo mount), and one
 * request path that follows redirects by hand (Authorization only to the registry's own origin, never
 * https → http), answers only the registry's own 401 challenges and retries.
 *
 * The parts it uses: `auth-session.ts` (credential, token cache, Basic, the realm rule; `auth.ts` parses
 * challenges and exchanges tokens), `retry.ts` (which failures retry, backoff, budget, Retry-After) and
 * `http.ts` (the transport).
 */
import type { Readable } from 'node:stream';
import { FlightDeckError } from '../errors.js';
import type { CredentialProvider, RegistryCredential } from '../credentials/types.js';
import { parseChallenge } from './auth.js';
import { AuthSession } from './auth-session.js';
import { discard, NetworkError, readBody, Transport, type HttpResponse, type TransportOptions } from './http.js';
import { MANIFEST_MAX_BYTES, MANIFEST_TYPES, MEDIA, digestOf, parseManifest, type Descriptor, type Manifest } from './manifest.js';
import { isDigest, registryBaseUrl } from './reference.js';
import { tlsError } from './tls-errors.js';
import { DEFAULT_MAX_RETRY_AFTER_MS, DEFAULT_RETRIES, RETRY_STATUS, isTlsTrustFailure, retryAfterMs, retryDelayMs, sleep, type RetryOptions } from './retry.js';

// The retry policy's names, for the existing importers of this module.
export { retryAfterMs, retryDelayMs, retryWindowMs, type RetryNotice, type RetryOptions } from './retry.js';

export interface ClientOptions extends TransportOptions, RetryOptions {
  /** true: http, false: https, undefined: localhost → http, others https (or listed in plainHttpHosts). */
  plainHttp?: boolean | undefined;
  plainHttpHosts?: readonly string[] | undefined;
  credentials?: CredentialProvider | undefined;
  /** Extra headers (`-H`, config.json `headers`): sent to the registry's own origin only. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The certs.d folder of this registry, named in TLS error hints (core/registries). */
  certsDir?: string | undefined;
}

export interface RequestSpec {
  method: string;
  /** Path (and query) under the registry, e.g. `/v2/repo/manifests/tag`, or an absolute upload URL. */
  path: string;
  headers?: Record<string, string>;
  /** A Buffer, or a factory so a streamed body can be re-sent on retry. */
  body?: Buffer | (() => Readable) | undefined;
  /** Token scopes, e.g. `repository:flight/x:pull`. */
  scopes: string[];
  signal?: AbortSignal | undefined;
  /** Retry on network errors / 5xx / 429 (default: true for GET/HEAD/PUT with a replayable body). */
  retry?: boolean;
  /** A large body is expected (blob download): see `HttpRequest.bulk`. */
  bulk?: boolean;
}

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

export class RegistryClient {
  readonly registry: string;
  readonly base: URL;
  readonly transport: Transport;
  private readonly opts: ClientOptions;
  private readonly auth: AuthSession;
  /** Retries performed (for tests and diagnostics). */
  retriesDone = 0;

  constructor(registry: string, opts: ClientOptions = {}) {
    this.registry = registry;
    this.opts = opts;
    const url = opts.plainHttp === undefined ? registryBaseUrl(registry, opts.plainHttpHosts) : `${opts.plainHttp ? 'http' : 'https'}://${registry}`;
    this.base = new URL(url);
    this.transport = new Transport(opts);
    this.auth = new AuthSession(registry, this.base, this.transport, opts.credentials);
  }

  close(): void {
    this.transport.close();
  }

  /** Retries after the first attempt of a failing request (and of a broken blob download). */
  get retries(): number {
    return this.opts.retries ?? DEFAULT_RETRIES;
  }

  /** How this client has been authenticating so far. */
  authScheme(): 'anonymous' | 'basic' | 'bearer' {
    return this.auth.scheme();
  }

  /** Send with redirects followed by hand: Authorization only goes to the registry's own origin. */
  private async sendFollowing(spec: RequestSpec, auth: string | undefined): Promise<HttpResponse> {
    let url = spec.path.startsWith('http://') || spec.path.startsWith('https://') ? new URL(spec.path) : new URL(spec.path, this.base);
    let method = spec.method;
    for (let hop = 0; hop <= 5; hop++) {
      const own = url.origin === this.base.origin;
      const headers: Record<string, string> = { ...(own ? this.opts.headers : {}), ...spec.headers };
      if (auth && own) headers.authorization = auth;
      const body = typeof spec.body === 'function' ? spec.body() : spec.body;
      const res = await this.transport.request({
        method,
        url,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        signal: spec.signal,
        bulk: spec.bulk,
      });
      const location = res.headers.location;
      if (!REDIRECT_STATUS.has(res.status) || !location) return res;
      await discard(res);
      const from = url;
      url = new URL(location, url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new FlightDeckError('REGISTRY_ERROR', `${this.registry} redirected to an unsupported URL scheme ${url.protocol}.`);
      }
      if (from.protocol === 'https:' && url.protocol === 'http:') {
        throw new FlightDeckError(
          'REGISTRY_UNSAFE',
          `${this.registry} redirected ${spec.method} ${pathOnly(spec.path)} from https to plain http (${url.host}); refused.`,
          {
            hint: 'An https registry must not send content or credentials over plain http; ask its operator to redirect to an https URL.',
            details: { registry: this.registry, location: `${url.protocol}//${url.host}${url.pathname}` },
          },
        );
      }
      if (res.status === 303) method = 'GET';
    }
    throw new FlightDeckError('REGISTRY_ERROR', `${this.registry} redirected more than 5 times for ${spec.path}.`);
  }

  /**
   * A 401 from another origin (a redirect target: blob storage, or anyone the registry points at) is not
   * the registry's challenge: it is never answered, so the registry's credentials never go to whatever
   * realm it names.
   */
  private async foreignChallenge(spec: RequestSpec, res: HttpResponse): Promise<HttpResponse> {
    if (res.status !== 401 || res.url.origin === this.base.origin) return res;
    await discard(res);
    throw new FlightDeckError(
      'REGISTRY_UNAUTHORIZED',
      `${res.url.host}, where ${this.registry} redirected ${spec.method} ${pathOnly(spec.path)}, asked for credentials; Flight Deck sends ${this.registry}'s credentials only to ${this.registry} itself.`,
      {
        hint: "A redirect target (e.g. blob storage) must accept the request without the registry's credentials (a pre-signed URL); retry, or ask the registry operator.",
        details: { registry: this.registry, redirectedTo: res.url.host },
      },
    );
  }

  private async sendAuthed(spec: RequestSpec): Promise<HttpResponse> {
    const used = await this.auth.header(spec.scopes, spec.signal);
    let res = await this.foreignChallenge(spec, await this.sendFollowing(spec, used));
    if (res.status === 401) {
      const challenge = parseChallenge(firstHeader(res.headers['www-authenticate']));
      await discard(res);
      if (await this.auth.answer(challenge, spec.scopes, used, spec.signal)) {
        res = await this.foreignChallenge(spec, await this.sendFollowing(spec, await this.auth.header(spec.scopes, spec.signal)));
      }
      if (res.status === 401) {
        await discard(res);
        const cred = await this.auth.cred(spec.signal);
        throw new FlightDeckError(
          'REGISTRY_UNAUTHORIZED',
          cred
            ? `${this.registry} refused the credentials from ${cred.source} for ${spec.method} ${pathOnly(spec.path)}.`
            : `${this.registry} needs credentials for ${spec.method} ${pathOnly(spec.path)}.`,
          { details: { registry: this.registry } },
        );
      }
    }
    if (res.status === 403) {
      const text = await readBody(res, 64 * 1024, () => new Error('oversized')).catch(() => Buffer.alloc(0));
      throw new FlightDeckError('REGISTRY_FORBIDDEN', `${this.registry} denied ${spec.method} ${pathOnly(spec.path)}${errorDetail(text)}.`, {
        details: { registry: this.registry },
      });
    }
    return res;
  }

  /** One registry request with auth, redirects and bounded retries. */
  async request(spec: RequestSpec): Promise<HttpResponse> {
    const retries = this.retries;
    const replayable = spec.body === undefined || Buffer.isBuffer(spec.body) || typeof spec.body === 'function';
    const retry = spec.retry ?? (replayable && ['GET', 'HEAD', 'PUT'].includes(spec.method));
    let resentStale = false;
    for (let attempt = 0; ; attempt++) {
      const canRetry = retry && attempt < retries;
      let res: HttpResponse;
      try {
        res = await this.sendAuthed(spec);
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        const tlsErr = await tlsError(
          err.code,
          err.message,
          { registry: this.registry, clientCert: this.opts.cert !== undefined, certsDir: this.opts.certsDir, base: this.base, proxy: this.opts.proxy },
          err,
        );
        if (tlsErr) throw tlsErr;
        if (isTlsTrustFailure(err.code)) {
          throw new FlightDeckError('REGISTRY_UNREACHABLE', `TLS connection to ${this.registry} failed: ${err.message}`, {
            cause: err,
            hint: 'The registry certificate is not trusted: add its CA with NODE_EXTRA_CA_CERTS, or use --insecure for a test registry.',
            details: { registry: this.registry, code: err.code },
          });
        }
        if (err.staleConnection && replayable && !resentStale) {
          // A reused keep-alive connection closed under the request before any answer (a proxy such as
          // tinyproxy closing idle connections does this to uploads): send it once more on a new connection
          // (the other idle ones may have been closed at the same moment), whatever the method. Not counted
          // as a retry: nothing was answered, and a blob is accepted only when its digest matches, so a
          // duplicated upload request cannot store wrong bytes.
          resentStale = true;
          this.transport.dropIdleConnections();
          attempt--;
          continue;
        }
        if (!canRetry) throw unreachable(this.registry, err, attempt + 1);
        await this.wait(attempt, undefined, spec.signal, { spec, retries, reason: err.message });
        continue;
      }
      if (RETRY_STATUS.has(res.status) && canRetry) {
        await discard(res);
        await this.wait(attempt, undefined, spec.signal, { spec, retries, reason: `HTTP ${res.status}` });
        continue;
      }
      if (res.status === 429) {
        const wait = retryAfterMs(firstHeader(res.headers['retry-after']));
        await discard(res);
        const max = this.opts.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
        if (!canRetry || (wait !== undefined && wait > max)) {
          throw new FlightDeckError(
            'RATE_LIMITED',
            `${this.registry} is rate limiting ${spec.method} ${pathOnly(spec.path)}${wait !== undefined ? ` (Retry-After ${Math.ceil(wait / 1000)} s)` : ''}.`,
            {
              details: { registry: this.registry, ...(wait !== undefined ? { retryAfterMs: wait } : {}) },
            },
          );
        }
        await this.wait(attempt, wait, spec.signal, { spec, retries, reason: 'HTTP 429 (rate limited)' });
        continue;
      }
      return res;
    }
  }

  /** Wait before retry `attempt` (0-based): exponential with jitter up to `retryMaxMs`, or Retry-After. */
  async pause(attempt: number, signal?: AbortSignal, retryAfter?: number): Promise<void> {
    return this.wait(attempt, retryAfter, signal);
  }

  private async wait(
    attempt: number,
    retryAfter: number | undefined,
    signal?: AbortSignal,
    notice?: { spec: RequestSpec; retries: number; reason: string },
  ): Promise<void> {
    this.retriesDone++;
    const ms = retryAfter ?? retryDelayMs(attempt, this.opts, Math.random());
    if (notice) {
      this.opts.onRetry?.({
        registry: this.registry,
        request: `${notice.spec.method} ${pathOnly(notice.spec.path)}`,
        reason: notice.reason,
        attempt: attempt + 1,
        of: notice.retries,
        waitMs: ms,
      });
    }
    await sleep(ms, signal);
  }

  /** `GET /v2/`: the API version check (also proves the credentials). */
  async ping(signal?: AbortSignal): Promise<{ status: number; apiVersion: string | undefined }> {
    const res = await this.request({ method: 'GET', path: '/v2/', scopes: [], signal });
    await discard(res);
    if (res.status !== 200) throw await statusError(this.registry, res, 'API check /v2/');
    return { status: res.status, apiVersion: firstHeader(res.headers['docker-distribution-api-version']) };
  }

  /**
   * Fetch a manifest by tag or digest. Verifies the digest when the reference is a digest (and against
   * Docker-Content-Digest otherwise), enforces the 4 MiB cap, parses strictly.
   */
  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<{ bytes: Buffer; descriptor: Descriptor; manifest: Manifest }> {
    const where = `${this.registry}/${repo}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.request({
      method: 'GET',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: MANIFEST_TYPES.join(', ') },
      scopes: [pullScope(repo)],
      signal,
    });
    if (res.status !== 200) throw await statusError(this.registry, res, `manifest ${where}`);
    const bytes = await readBody(
      res,
      MANIFEST_MAX_BYTES,
      () => new FlightDeckError('MANIFEST_TOO_LARGE', `Manifest ${where} is over the 4 MiB cap.`, { details: { reference: where } }),
    );
    const algorithm = isDigest(reference) ? (reference.split(':')[0] ?? 'sha256') : 'sha256';
    const digest = digestOf(bytes, algorithm);
    const expected = isDigest(reference) ? reference : firstHeader(res.headers['docker-content-digest']);
    if (expected && expected.startsWith(`${algorithm}:`) && expected !== digest) {
      throw new FlightDeckError('BLOB_DIGEST_MISMATCH', `Manifest ${where} hashed to ${digest}, expected ${expected}; nothing was stored.`, {
        details: { reference: where, digest: expected, actual: digest },
      });
    }
    const manifest = parseManifest(bytes, firstHeader(res.headers['content-type']), where);
    const descriptor: Descriptor = { mediaType: manifest.mediaType, digest, size: bytes.length };
    if (manifest.artifactType) descriptor.artifactType = manifest.artifactType;
    return { bytes, descriptor, manifest };
  }

  /** GET a blob (optionally from `offset`); the caller streams `res.body`. */
  async getBlob(repo: string, digest: string, offset: number, signal?: AbortSignal): Promise<HttpResponse> {
    const res = await this.request({
      method: 'GET',
      path: `/v2/${repo}/blobs/${digest}`,
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      scopes: [pullScope(repo)],
      signal,
      bulk: true,
    });
    if (res.status !== 200 && res.status !== 206) throw await statusError(this.registry, res, `blob ${digest} in ${repo}`);
    return res;
  }

  async hasBlob(repo: string, digest: string, signal?: AbortSignal, scopes = [pushScope(repo)]): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes, signal });
    await discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(this.registry, res, `blob ${digest} in ${repo}`);
  }

  /**
   * The OCI 1.1 referrers API (`GET /v2/<repo>/referrers/<digest>`): an index of the manifests whose
   * `subject` is `digest`, or null when the registry has no such API (404, 400, 405) or no referrers.
   */
  async referrers(repo: string, digest: string, signal?: AbortSignal): Promise<{ bytes: Buffer; descriptor: Descriptor; manifest: Manifest } | null> {
    const where = `referrers of ${this.registry}/${repo}@${digest}`;
    const res = await this.request({
      method: 'GET',
      path: `/v2/${repo}/referrers/${digest}`,
      headers: { accept: MEDIA.ociIndex },
      scopes: [pullScope(repo)],
      signal,
    });
    if ([400, 404, 405].includes(res.status)) {
      await discard(res);
      return null;
    }
    if (res.status !== 200) throw await statusError(this.registry, res, where);
    const bytes = await readBody(res, MANIFEST_MAX_BYTES, () => new FlightDeckError('MANIFEST_TOO_LARGE', `The ${where} are over the 4 MiB cap.`));
    const manifest = parseManifest(bytes, MEDIA.ociIndex, where);
    if (manifest.kind !== 'index' || manifest.manifests.length === 0) return null;
    return { bytes, descriptor: { mediaType: MEDIA.ociIndex, digest: digestOf(bytes), size: bytes.length }, manifest };
  }

  /** Tags of a repository, following `Link` pagination. */
  async listTags(repo: string, signal?: AbortSignal, pageSize = 1000): Promise<string[]> {
    return this.paginate(`/v2/${repo}/tags/list?n=${pageSize}`, 'tags', [pullScope(repo)], `tags of ${repo}`, signal);
  }

  /** Repositories from `_catalog`, following `Link` pagination. */
  async catalog(signal?: AbortSignal, pageSize = 1000): Promise<string[]> {
    return this.paginate(`/v2/_catalog?n=${pageSize}`, 'repositories', ['registry:catalog:*'], 'catalog', signal);
  }

  private async paginate(first: string, key: 'tags' | 'repositories', scopes: string[], what: string, signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = first;
    for (let page = 0; next && page < 1000; page++) {
      const res = await this.request({ method: 'GET', path: next, headers: { accept: 'application/json' }, scopes, signal });
      if (res.status !== 200) throw await statusError(this.registry, res, what);
      const body = await readBody(res, 16 * 1024 * 1024, () => new FlightDeckError('REGISTRY_ERROR', `${this.registry} sent an oversized ${what} page.`));
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new FlightDeckError('REGISTRY_ERROR', `${this.registry} answered the ${what} request with invalid JSON.`);
      }
      const list = json[key];
      if (Array.isArray(list)) out.push(...list.filter((x): x is string => typeof x === 'string'));
      next = nextLink(firstHeader(res.headers.link), this.base);
    }
    return out;
  }

  // ---- push ------------------------------------------------------------------------------------------

  /** Try a cross-repository mount; true when the registry mounted the blob (201). */
  async mountBlob(repo: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [pushScope(repo), pullScope(from)],
      signal,
      retry: true,
    });
    await discard(res);
    if (res.status === 201) return true;
    if (res.status === 202) {
      // Mount refused: cancel the upload session the registry opened instead.
      const loc = firstHeader(res.headers.location);
      if (loc)
        await this.request({ method: 'DELETE', path: absolute(loc, this.base), scopes: [pushScope(repo)], signal, retry: false }).then(discard, () => {});
      return false;
    }
    throw await statusError(this.registry, res, `mount of ${digest} from ${from}`);
  }

  /** Open an upload session; returns its Location. */
  private async startUpload(repo: string, signal?: AbortSignal): Promise<string> {
    const res = await this.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [pushScope(repo)], signal, retry: true });
    await discard(res);
    const loc = firstHeader(res.headers.location);
    if (res.status !== 202 || !loc) throw await statusError(this.registry, res, `upload to ${repo}`);
    return absolute(loc, this.base);
  }

  /**
   * Upload a blob: POST then PUT (monolithic) when `chunkSize` is 0 or the blob is smaller, else PATCH
   * chunks then PUT. `read(start, end)` yields the bytes [start, end).
   */
  async pushBlob(
    repo: string,
    desc: Descriptor,
    read: (start: number, end: number) => Readable,
    opts: { chunkSize?: number; signal?: AbortSignal | undefined; onBytes?: (n: number) => void } = {},
  ): Promise<void> {
    const { signal } = opts;
    const chunkSize = opts.chunkSize ?? 0;
    let location = await this.startUpload(repo, signal);
    const scopes = [pushScope(repo)];
    if (chunkSize > 0 && desc.size > chunkSize) {
      for (let start = 0; start < desc.size; start += chunkSize) {
        const end = Math.min(desc.size, start + chunkSize);
        const res = await this.request({
          method: 'PATCH',
          path: location,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) },
          body: () => read(start, end),
          scopes,
          signal,
          retry: false,
        });
        await discard(res);
        const loc = firstHeader(res.headers.location);
        if (res.status !== 202 || !loc) throw await statusError(this.registry, res, `chunk ${start}-${end - 1} of ${desc.digest}`);
        location = absolute(loc, this.base);
        opts.onBytes?.(end - start);
      }
      const res = await this.request({
        method: 'PUT',
        path: withDigest(location, desc.digest),
        headers: { 'content-length': '0' },
        scopes,
        signal,
        retry: false,
      });
      await discard(res);
      if (res.status !== 201) throw await statusError(this.registry, res, `blob ${desc.digest}`);
      return;
    }
    const res = await this.request({
      method: 'PUT',
      path: withDigest(location, desc.digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
      body: () => read(0, desc.size),
      scopes,
      signal,
      retry: false,
    });
    await discard(res);
    if (res.status !== 201) throw await statusError(this.registry, res, `blob ${desc.digest}`);
    opts.onBytes?.(desc.size);
  }

  /** PUT a manifest under a tag or its digest. Returns the digest the registry reports. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    const res = await this.request({
      method: 'PUT',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: [pushScope(repo)],
      signal,
    });
    if (res.status !== 201) throw await statusError(this.registry, res, `manifest ${repo}:${reference}`);
    await discard(res);
    return firstHeader(res.headers['docker-content-digest']) ?? digestOf(bytes);
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

function absolute(location: string, base: URL): string {
  return new URL(location, base).toString();
}

function pathOnly(p: string): string {
  try {
    return new URL(p, 'http://x').pathname;
  } catch {
    return p;
  }
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `Link: </v2/_catalog?last=x&n=100>; rel="next"` → absolute next URL on the same registry. */
export function nextLink(link: string | undefined, base: URL): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m?.[1]) {
      const url = new URL(m[1], base);
      return url.origin === base.origin ? `${url.pathname}${url.search}` : undefined;
    }
  }
  return undefined;
}

function unreachable(registry: string, err: NetworkError, attempts: number): FlightDeckError {
  if (err.code.startsWith('EPROXY_')) {
    return new FlightDeckError('PROXY_UNREACHABLE', `${err.message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`, {
      cause: err,
      details: { registry, code: err.code },
    });
  }
  return new FlightDeckError('REGISTRY_UNREACHABLE', `${registry} is unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${err.message}`, {
    cause: err,
    details: { registry, code: err.code },
  });
}

function errorDetail(body: Buffer): string {
  try {
    const json = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const e = json.errors?.[0];
    return e ? ` (${e.code ?? 'ERROR'}: ${String(e.message ?? '').slice(0, 200)})` : '';
  } catch {
    return '';
  }
}

/** Map a non-success answer to a stable error naming what was asked for. */
export async function statusError(registry: string, res: HttpResponse, what: string): Promise<FlightDeckError> {
  const body = await readBody(res, 64 * 1024, () => new Error('oversized')).catch(() => Buffer.alloc(0));
  const detail = errorDetail(body);
  const details = { registry, status: res.status };
  if (res.status === 404) {
    return new FlightDeckError('NOT_FOUND', `${what} was not found on ${registry}${detail}.`, {
      hint: 'Check the repository and tag; `flightdeck ls REGISTRY/REPO` lists the tags.',
      details,
    });
  }
  if (res.status === 401) return new FlightDeckError('REGISTRY_UNAUTHORIZED', `${registry} refused access to ${what}${detail}.`, { details });
  if (res.status === 403) return new FlightDeckError('REGISTRY_FORBIDDEN', `${registry} denied access to ${what}${detail}.`, { details });
  if (res.status === 429) return new FlightDeckError('RATE_LIMITED', `${registry} is rate limiting requests for ${what}.`, { details });
  return new FlightDeckError('REGISTRY_ERROR', `${registry} answered HTTP ${res.status} for ${what}${detail}.`, { details });
}

/**
 * Verify credentials against `GET /v2/` with the full auth flow (Basic or Bearer token exchange).
 * For the credentials module's `login`: resolves with the scheme the registry asked for, or throws
 * REGISTRY_UNAUTHORIZED / REGISTRY_UNREACHABLE / REGISTRY_ERROR.
 */
export async function checkRegistryAuth(
  registry: string,
  credential: RegistryCredential | undefined,
  opts: Omit<ClientOptions, 'credentials'> & { signal?: AbortSignal } = {},
): Promise<{ registry: string; scheme: 'anonymous' | 'basic' | 'bearer'; apiVersion: string | undefined }> {
  const client = new RegistryClient(registry, { retries: 1, ...opts, credentials: async () => credential });
  try {
    const { apiVersion } = await client.ping(opts.signal);
    const scheme = credential?.kind === 'bearer' ? 'bearer' : client.authScheme();
    return { registry, scheme, apiVersion };
  } finally {
    client.close();
  }
}
