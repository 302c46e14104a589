/**
 * Registry access for every area that needs content by reference (pull, inspect/check of a registry
 * reference, deploy of a REF): one place that builds a registry client with the configured plain-HTTP
 * hosts and the credentials module's lookup order, and that pulls into the content store. `localContent`
 * is the one "reference -> local content" step of deploy and of inspect/check.
 */
import { existsSync } from 'node:fs';
import type { RegistryFlags } from '../registries/schema.js';
import type { ResolvedRegistry } from '../registries/settings.js';
import type { FlightDeckPaths } from '../config/paths.js';
import type { CredentialProvider } from '../credentials/types.js';
import { openStore } from './cache.js';
import { RegistryClient, type ClientOptions, type RetryNotice } from './client.js';
import { OciLayout } from './layout.js';
import { layoutSource, pull, registrySource, type ContentSource, type PullOptions, type PullResult } from './pull.js';
import { formatReference, isRegistryReference, parseReference, type Reference, type RegistryReference } from './reference.js';
import { ANNOTATION_REF_NAME } from './manifest.js';
import { mirroredSource, mirrorRepository, type Endpoint, type ServedBy } from './mirrors.js';
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
 * those schemas at start-up (issue 19).
 */
async function registrySettings() {
  const [config, conf, settings] = await Promise.all([
    import('../config/config.js'),
    import('../registries/registries-conf.js'),
    import('../registries/settings.js'),
  ]);
  return {
    loadConfig: config.loadConfig,
    configFile: config.configFile,
    loadRegistriesConf: conf.loadRegistriesConf,
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
  async function settings(registry: string, conn: Pick<Connection, 'plainHttp' | 'insecure'> = {}, repository?: string): Promise<ResolvedRegistry> {
    const { loadConfig, configFile, loadRegistriesConf, resolveRegistry } = await registrySettings();
    const config = await loadConfig(paths);
    const scoped = options.flags?.();
    const conf = await loadRegistriesConf(scoped?.flags.registriesConf, env);
    const host = registry.toLowerCase();
    const flags = scoped && (scoped.registry === undefined || scoped.registry.toLowerCase() === host) ? scoped.flags : undefined;
    return resolveRegistry({ host, repository, config, configFile: configFile(paths), conf, flags, conn, env });
  }

  /** Client options for `registry`: refused when it is blocked, before any connection. */
  async function clientOptions(registry: string, conn: Pick<Connection, 'plainHttp' | 'insecure' | 'onRetry'>, repository?: string): Promise<ClientOptions> {
    const { loadConfig, loadTlsMaterial } = await registrySettings();
    const config = await loadConfig(paths);
    const r = await settings(registry, conn, repository);
    if (r.blocked) {
      throw new FlightDeckError(
        'REGISTRY_BLOCKED',
        `${registry} is blocked by ${r.sources.blocked?.from ?? r.sources.blocked?.origin}; no connection was made.`,
        {
          details: { registry, from: r.sources.blocked?.from ?? '' },
        },
      );
    }
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
   * Run `fn` against a registry or an OCI layout, closing the clients afterwards. A registry with mirrors
   * (for this kind of reference: `pullFromMirror`) is read through them first (core/oci/mirrors.ts); each
   * mirror gets its own client, settings and credentials (looked up for the mirror's host).
   */
  async function withSource<T>(ref: Reference, conn: Connection, fn: (source: ContentSource) => Promise<T>, servedBy?: ServedBy): Promise<T> {
    if (ref.kind === 'layout') return fn(layoutSource(await OciLayout.open(ref.dir, { create: false }), ref));
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const r = await settings(ref.registry, conn, ref.repository);
    const byDigest = ref.digest !== undefined;
    const mirrors = r.mirrors.filter((m) => m.pullFromMirror === 'all' || (m.pullFromMirror === 'digest-only') === byDigest);
    const c = await client(ref.registry, conn, ref.repository);
    const clients: RegistryClient[] = [c];
    try {
      if (mirrors.length === 0) return await fn(registrySource(c, ref.repository, reference));
      const endpoints: Endpoint[] = [];
      for (const m of mirrors) {
        const at = mirrorRepository(m.location, ref.repository, r.mirrorPrefixPath);
        try {
          // A mirror that fails is left for the next endpoint soon: one retry, not the registry's budget.
          const mopts = await clientOptions(at.registry, { ...(m.insecure ? { insecure: true } : {}), onRetry: conn.onRetry }, at.repository);
          const mc = new RegistryClient(at.registry, { ...mopts, retries: Math.min(mopts.retries ?? 1, 1), credentials: credentials() });
          clients.push(mc);
          endpoints.push({ name: `${at.registry}/${at.repository}`, mirror: true, source: registrySource(mc, at.repository, reference) });
        } catch (err) {
          warn(`Mirror ${m.location} of ${ref.registry} is not used: ${(err as Error).message}`);
        }
      }
      endpoints.push({ name: `${ref.registry}/${ref.repository}`, mirror: false, source: registrySource(c, ref.repository, reference) });
      return await fn(mirroredSource(endpoints, { registry: ref.registry, onRetry: conn.onRetry, ...(servedBy ? { servedBy } : {}) }));
    } finally {
      for (const x of clients) x.close();
    }
  }

  /** Pull a reference into the verified content store. */
  async function pullToStore(reference: string, conn: Connection, opts: PullOptions = {}): Promise<PullResult & { store: OciLayout }> {
    const ref = parseReference(reference);
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

  return { client, clientOptions, settings, withSource, pullToStore, localContent };
}

export type RegistryAccess = ReturnType<typeof createRegistryAccess>;
