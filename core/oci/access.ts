/**
 * Registry access for every area that needs content by reference (pull, inspect/check of a registry
 * reference, deploy of a REF): one place that builds a registry client with the configured plain-HTTP
 * hosts and the credentials module's lookup order, and that pulls into the content store. `localContent`
 * is the one "reference -> local content" step of deploy and of inspect/check.
 */
import { existsSync } from 'node:fs';
import type { ConfRegistry } from '../registries/registries-conf.js';
import type { RegistryFlags } from '../registries/schema.js';
import type { ResolvedRegistry } from '../registries/settings.js';
import type { FlightDeckPaths } from '../config/paths.js';
import type { CredentialProvider } from '../credentials/types.js';
import { openStore } from './cache.js';
import { RegistryClient, type ClientOptions, type RetryNotice } from './client.js';
import { OciLayout } from './layout.js';
import { layoutSource, pull, registrySource, type ContentSource, type PullOptions, type PullResult } from './pull.js';
import { formatReference, isDigest, isRegistryReference, parseReference, type Reference, type RegistryReference } from './reference.js';
import { ANNOTATION_REF_NAME } from './manifest.js';
import { endpointHost, mirroredSource, UNREACHABLE, type Endpoint, type ServedBy } from './mirrors.js';
import { FlightDeckError } from '../errors.js';

export interface Connection {
  plainHttp?: boolean | undefined;
  insecure?: boolean | undefined;
  /** Use only the content store: no network call at all (OFFLINE_MISS when it lacks the content). */
  offline?: boolean | undefined;
  /** Told before a request to the registry is retried (see RegistryClient). */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
}

/** Kit imports name each ref `<registry>/<repo>:<tag>` and record `<repo>:<tag>` here (core/kits/import.ts). */
export const ANNOTATION_KIT_REF = 'io.flightdeck.kit-ref';

/**
 * A source reading only the content store: the reference's own entry, else a kit-imported entry for the
 * same `<repo>:<tag>` from any registry, else the manifest by digest. Missing content is OFFLINE_MISS.
 */
async function offlineSource(store: OciLayout, ref: RegistryReference): Promise<ContentSource> {
  const name = `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}`;
  const { manifests } = await store.readIndex();
  const entry =
    manifests.find((e) => e.annotations?.[ANNOTATION_REF_NAME] === name) ??
    (ref.digest
      ? manifests.find((e) => e.digest === ref.digest)
      : manifests.find((e) => e.annotations?.[ANNOTATION_KIT_REF] === `${ref.repository}:${ref.tag ?? 'latest'}`));
  const miss = (what: string) =>
    new FlightDeckError('OFFLINE_MISS', `${formatReference(ref)} is not in the content store ${store.root} (${what}), and --offline allows no network call.`, {
      details: { reference: formatReference(ref) },
    });
  if (!entry && !(ref.digest && (await store.has({ digest: ref.digest })))) throw miss('no such ref');
  const source = layoutSource(store, { digest: entry?.digest ?? ref.digest });
  return {
    ...source,
    blob: (desc, offset, signal) =>
      source.blob(desc, offset, signal).catch((err: unknown) => {
        throw err instanceof FlightDeckError && err.code === 'NOT_FOUND' ? miss(`blob ${desc.digest} missing`) : err;
      }),
  };
}

/**
 * Whether `target` names content to bring into the store (an `oci:` layout, or a registry reference that
 * names no existing path) rather than a local file.
 */
export function isContentReference(target: string): boolean {
  return target.startsWith('oci:') || (isRegistryReference(target) && !existsSync(target));
}

/** A reference's content in the verified content store, and the `oci:` target naming its manifest there. */
export type LocalContent = PullResult & { store: OciLayout; target: string };

/** Connection flags of a CLI command and the registry they are for (undefined: every registry it contacts). */
export interface ScopedRegistryFlags {
  registry?: string | undefined;
  flags: RegistryFlags;
}

export interface RegistryAccessOptions {
  /** The command's connection flags, read at call time (CLI only; the web api cannot name files). */
  flags?: () => ScopedRegistryFlags | undefined;
  /** Told about a setting that works but should be fixed (a client key readable by others). */
  warn?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * The registry settings' code (config.json, registries.conf, certs.d and their schemas), loaded on the first
 * registry contact: a command that reads only local files (`flightdeck inspect x.wasm`) does not build
 * those schemas at start-up (issue 19). Loaded once per process; every registry call awaits the same promise.
 */
function registrySettings() {
  return (settingsCode ??= loadSettingsCode());
}
let settingsCode: ReturnType<typeof loadSettingsCode> | undefined;

async function loadSettingsCode() {
  const [config, conf, settings] = await Promise.all([
    import('../config/config.js'),
    import('../registries/registries-conf.js'),
    import('../registries/settings.js'),
  ]);
  return {
    loadConfig: config.loadConfig,
    configFile: config.configFile,
    loadRegistriesConf: conf.loadRegistriesConf,
    expandShortName: conf.expandShortName,
    rewriteLocation: conf.rewriteLocation,
    resolveRegistry: settings.resolveRegistry,
    loadTlsMaterial: settings.loadTlsMaterial,
  };
}

export function createRegistryAccess(paths: FlightDeckPaths, credentials: () => CredentialProvider, options: RegistryAccessOptions = {}) {
  const env = options.env ?? process.env;
  const warned = new Set<string>();
  const warn = (m: string) => {
    if (warned.has(m)) return;
    warned.add(m);
    options.warn?.(m);
  };

  /** The effective settings of `registry` (core/registries/settings.ts), each with its origin. */
  async function settings(
    registry: string,
    conn: Pick<Connection, 'plainHttp' | 'insecure'> = {},
    repository?: string,
    confEntry?: ConfRegistry,
  ): Promise<ResolvedRegistry> {
    const { loadConfig, configFile, loadRegistriesConf, resolveRegistry } = await registrySettings();
    const config = await loadConfig(paths);
    const scoped = options.flags?.();
    const conf = await loadRegistriesConf(scoped?.flags.registriesConf, env);
    const host = registry.toLowerCase();
    const flags = scoped && (scoped.registry === undefined || scoped.registry.toLowerCase() === host) ? scoped.flags : undefined;
    return resolveRegistry({ host, repository, config, configFile: configFile(paths), conf, confEntry, flags, conn, env });
  }

  const blockedError = (registry: string, r: ResolvedRegistry) =>
    new FlightDeckError('REGISTRY_BLOCKED', `${registry} is blocked by ${r.sources.blocked?.from ?? r.sources.blocked?.origin}; no connection was made.`, {
      details: { registry, from: r.sources.blocked?.from ?? '' },
    });

  /** Client options for `registry`: refused when it is blocked, before any connection. */
  async function clientOptions(
    registry: string,
    conn: Pick<Connection, 'plainHttp' | 'insecure' | 'onRetry'>,
    repository?: string,
    confEntry?: ConfRegistry,
  ): Promise<ClientOptions> {
    const { loadConfig, loadTlsMaterial } = await registrySettings();
    const config = await loadConfig(paths);
    const r = await settings(registry, conn, repository, confEntry);
    if (r.blocked) throw blockedError(registry, r);
    const tls = await loadTlsMaterial(r);
    for (const m of [...r.warnings, ...tls.warnings]) warn(m);
    return {
      plainHttp: r.plainHttp,
      plainHttpHosts: config.plainHttp,
      insecure: r.insecure,
      ...(tls.ca.length ? { ca: tls.ca } : {}),
      ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
      headers: r.headers,
      proxy: r.proxy,
      certsDir: r.certsDir,
      onRetry: conn.onRetry,
      retries: config.retry.attempts,
      retryMaxMs: config.retry.maxDelaySeconds * 1000,
    };
  }

  /** A client for `registry` (`repository`: the one the caller works on, for registries.conf prefixes). */
  async function client(registry: string, conn: Connection, repository?: string): Promise<RegistryClient> {
    return new RegistryClient(registry, { ...(await clientOptions(registry, conn, repository)), credentials: credentials() });
  }

  /**
   * Where `registry/repository` physically is: the registries.conf `location` of the table matching it
   * replaces the matched prefix (the name itself stays the canonical one everywhere else).
   */
  async function physical(r: ResolvedRegistry, registry: string, repository: string): Promise<{ registry: string; repository: string; rewritten: boolean }> {
    const e = r.confEntry;
    if (!r.location || !e) return { registry, repository, rewritten: false };
    const { rewriteLocation } = await registrySettings();
    const at = rewriteLocation(registry, repository, e.prefix, e.location, e.file);
    return { ...at, rewritten: at.registry !== registry || at.repository !== repository };
  }

  /**
   * The client for the primary endpoint of `registry/repository`: the registry itself, or the `location`
   * it is rewritten to (with that host's own settings and credentials, and the matching table's
   * `insecure`). Used by writes (push: never to a mirror) and listings. Blocked names are refused first.
   */
  async function primaryClient(registry: string, repository: string | undefined, conn: Connection): Promise<{ client: RegistryClient; repository: string }> {
    const r = await settings(registry, conn, repository);
    if (r.blocked) throw blockedError(registry, r);
    const at = await physical(r, registry, repository ?? '');
    if (!at.rewritten) return { client: await client(registry, conn, repository), repository: repository ?? '' };
    const opts = await clientOptions(at.registry, { onRetry: conn.onRetry }, at.repository || undefined, r.confEntry);
    return { client: new RegistryClient(at.registry, { ...opts, credentials: credentials() }), repository: at.repository };
  }

  /** Clients opened for one operation, by endpoint, closed together. */
  function clientSet() {
    const open = new Map<string, Promise<RegistryClient>>();
    return {
      get(key: string, make: () => Promise<RegistryClient>): Promise<RegistryClient> {
        let c = open.get(key);
        if (!c) {
          c = make();
          open.set(key, c);
        }
        return c;
      },
      close() {
        for (const c of open.values()) c.then((x) => x.close()).catch(() => {});
      },
    };
  }
  type ClientSet = ReturnType<typeof clientSet>;

  interface ReadEndpoint {
    /** `host[:port]/repo` as shown in messages and events. */
    name: string;
    mirror: boolean;
    client: RegistryClient;
    repository: string;
  }

  /**
   * The endpoints a read of `registry/repository` tries, in order (containers-registries.conf(5)): the
   * mirrors that apply to this kind of reference (`pullFromMirror`), then the primary location (the
   * registry, or its rewritten `location`). Each mirror gets its own client, settings and credentials
   * (looked up for the mirror's host); one that cannot be used is skipped with a warning.
   */
  async function readEndpoints(registry: string, repository: string, byDigest: boolean, conn: Connection, set: ClientSet): Promise<ReadEndpoint[]> {
    const r = await settings(registry, conn, repository);
    if (r.blocked) throw blockedError(registry, r);
    const endpoints: ReadEndpoint[] = [];
    const { rewriteLocation, configFile } = await registrySettings();
    const mirrors = r.mirrors.filter((m) => m.pullFromMirror === 'all' || (m.pullFromMirror === 'digest-only') === byDigest);
    for (const m of mirrors) {
      try {
        const at = rewriteLocation(registry, repository, r.mirrorPrefix, m.location, r.confEntry?.file ?? configFile(paths));
        // A mirror that fails is left for the next endpoint soon: one retry, not the registry's budget.
        const c = await set.get(`mirror|${at.registry}|${at.repository}|${m.insecure}`, async () => {
          const mopts = await clientOptions(at.registry, { ...(m.insecure ? { insecure: true } : {}), onRetry: conn.onRetry }, at.repository);
          return new RegistryClient(at.registry, { ...mopts, retries: Math.min(mopts.retries ?? 1, 1), credentials: credentials() });
        });
        endpoints.push({ name: `${at.registry}/${at.repository}`, mirror: true, client: c, repository: at.repository });
      } catch (err) {
        warn(`Mirror ${m.location} of ${registry} is not used: ${(err as Error).message}`);
      }
    }
    const at = await physical(r, registry, repository);
    const c = await set.get(`primary|${at.registry}|${at.repository}`, async () =>
      at.rewritten
        ? new RegistryClient(at.registry, {
            ...(await clientOptions(at.registry, { onRetry: conn.onRetry }, at.repository, r.confEntry)),
            credentials: credentials(),
          })
        : client(registry, conn, repository),
    );
    endpoints.push({ name: `${at.registry}/${at.repository}`, mirror: false, client: c, repository: at.repository });
    return endpoints;
  }

  /** A content source for `reference` over `endpoints` (a mirrored one when there is more than one). */
  function endpointSource(
    endpoints: ReadEndpoint[],
    registry: string,
    reference: string,
    conn: Connection,
    shared: { servedBy?: ServedBy; down: Set<string> },
  ): ContentSource {
    const only = endpoints.length === 1 ? endpoints[0] : undefined;
    if (only) return registrySource(only.client, only.repository, reference);
    const list: Endpoint[] = endpoints.map((e) => ({ name: e.name, mirror: e.mirror, source: registrySource(e.client, e.repository, reference) }));
    return mirroredSource(list, { registry, onRetry: conn.onRetry, down: shared.down, ...(shared.servedBy ? { servedBy: shared.servedBy } : {}) });
  }

  /**
   * Run `fn` against a registry or an OCI layout, closing the clients afterwards. A registry reference is
   * read through its endpoints (mirrors, then its primary location: `readEndpoints`); the reference the
   * caller names stays the canonical one (content store, receipts, locks, UI).
   */
  async function withSource<T>(ref: Reference, conn: Connection, fn: (source: ContentSource) => Promise<T>, servedBy?: ServedBy): Promise<T> {
    if (ref.kind === 'layout') return fn(layoutSource(await OciLayout.open(ref.dir, { create: false }), ref));
    const set = clientSet();
    try {
      const endpoints = await readEndpoints(ref.registry, ref.repository, ref.digest !== undefined, conn, set);
      return await fn(endpointSource(endpoints, ref.registry, ref.digest ?? ref.tag ?? 'latest', conn, { ...(servedBy ? { servedBy } : {}), down: new Set() }));
    } finally {
      set.close();
    }
  }

  /**
   * Content of many repositories under one registry (kit build): a source per repository and reference,
   * read through the same endpoints as a pull (mirrors, rewritten location, digest checks, fallback),
   * with the referrers API asked of each endpoint in turn. The endpoints of a repository are worked out
   * on first use; `close` closes every client opened.
   */
  async function registryContent(registry: string, conn: Connection) {
    const { loadConfig } = await registrySettings();
    const config = await loadConfig(paths);
    const set = clientSet();
    const plans = new Map<string, Promise<ReadEndpoint[]>>();
    const endpointsOf = (repository: string, byDigest: boolean) => {
      const key = `${repository}@${byDigest}`;
      let p = plans.get(key);
      if (!p) {
        p = readEndpoints(registry, repository, byDigest, conn, set);
        p.catch(() => {});
        plans.set(key, p);
      }
      return p;
    };
    const servedBy: ServedBy = new Map();
    const down = new Set<string>();
    return {
      servedBy,
      source(repository: string, reference: string): ContentSource {
        const made = endpointsOf(repository, isDigest(reference)).then((eps) => endpointSource(eps, registry, reference, conn, { servedBy, down }));
        made.catch(() => {});
        return {
          name: `${registry}/${repository}`,
          retries: config.retry.attempts,
          resolve: async (signal) => (await made).resolve(signal),
          manifest: async (desc, signal) => (await made).manifest(desc, signal),
          blob: async (desc, offset, signal) => (await made).blob(desc, offset, signal),
          pause: async (attempt, signal) => (await made).pause(attempt, signal),
        };
      },
      /** The first referrers index an endpoint has for `digest`; null when none has one. */
      async referrers(repository: string, digest: string, signal?: AbortSignal) {
        const eps = await endpointsOf(repository, true);
        let lastErr: unknown;
        let answered = false;
        for (const e of eps.length > 1 ? eps.filter((x) => !down.has(endpointHost(x.name))) : eps) {
          try {
            const found = await e.client.referrers(e.repository, digest, signal);
            answered = true;
            if (found) return found;
          } catch (err) {
            if (err instanceof FlightDeckError && err.code === 'ABORTED') throw err;
            if (err instanceof FlightDeckError && UNREACHABLE.includes(err.code)) down.add(endpointHost(e.name));
            lastErr = err;
          }
        }
        if (!answered && lastErr) throw lastErr;
        return null;
      },
      close: () => set.close(),
    };
  }

  /**
   * A reference-only command's input with a short name expanded (registries.conf `[aliases]`, else the one
   * unqualified-search registry; several are REFERENCE_AMBIGUOUS); anything else unchanged.
   */
  async function qualify(input: string): Promise<string> {
    const { loadRegistriesConf, expandShortName } = await registrySettings();
    const conf = await loadRegistriesConf(options.flags?.()?.flags.registriesConf, env);
    return expandShortName(input, conf, true)?.reference ?? input;
  }

  /**
   * For a command that takes a file or a reference: the reference a short name is an alias of, when no
   * file of that name exists (`fileOk`) and registries.conf has the alias; else undefined (a file path).
   * Search registries are not used here: a mistyped file name never turns into a download.
   */
  async function aliasFor(input: string, opts: { fileOk?: boolean } = {}): Promise<string | undefined> {
    if ((opts.fileOk ?? true) && existsSync(input)) return undefined;
    const { loadRegistriesConf, expandShortName } = await registrySettings();
    const conf = await loadRegistriesConf(options.flags?.()?.flags.registriesConf, env);
    return expandShortName(input, conf, false)?.reference;
  }

  /** Pull a reference into the verified content store (a short name is expanded first: `qualify`). */
  async function pullToStore(reference: string, conn: Connection, opts: PullOptions = {}): Promise<PullResult & { store: OciLayout }> {
    const ref = parseReference(await qualify(reference));
    const store = await openStore(paths);
    if (conn.offline && ref.kind === 'registry') return { ...(await pull(await offlineSource(store, ref), store, ref, opts)), store };
    // Which endpoint (a mirror or the registry) served each blob, on its `done` event.
    const servedBy: ServedBy = new Map();
    const onEvent = opts.onEvent;
    const withEndpoint: PullOptions = onEvent
      ? { ...opts, onEvent: (e) => onEvent(e.phase === 'done' && servedBy.has(e.digest) ? { ...e, endpoint: servedBy.get(e.digest) } : e) }
      : opts;
    return { ...(await withSource(ref, conn, (source) => pull(source, store, ref, withEndpoint), servedBy)), store };
  }

  /**
   * Reference -> local content, for a caller that reads the content right after: a registry reference or
   * an `oci:` layout pulled into the content store. Blobs already stored are not hashed by the pull
   * (`verifyExisting: false`) because the caller reads them verified (OciLayout.withBlob /
   * readBlobVerified: BLOB_CORRUPT, quarantined) — a caller that does not read them must use pullToStore.
   */
  async function localContent(reference: string, conn: Connection, signal?: AbortSignal): Promise<LocalContent> {
    const pulled = await pullToStore(reference, conn, { signal, verifyExisting: false });
    return { ...pulled, target: `oci:${pulled.store.root}@${pulled.digest}` };
  }

  return { client, clientOptions, settings, primaryClient, withSource, registryContent, qualify, aliasFor, pullToStore, localContent };
}

export type RegistryAccess = ReturnType<typeof createRegistryAccess>;
