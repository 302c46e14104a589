/**
 * Registry access for every area that needs content by reference (pull, inspect/check of a registry
 * reference, deploy of a REF): one place that builds a registry client with the configured plain-HTTP
 * hosts and the credentials module's lookup order, and that pulls into the content store.
 */
import { loadConfig } from '../config/config.js';
import type { FlightDeckPaths } from '../config/paths.js';
import type { CredentialProvider } from '../credentials/types.js';
import { openStore } from './cache.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { OciLayout } from './layout.js';
import { layoutSource, pull, registrySource, type ContentSource, type PullOptions, type PullResult } from './pull.js';
import { parseReference, type Reference } from './reference.js';

export interface Connection {
  plainHttp?: boolean | undefined;
  insecure?: boolean | undefined;
}

export function createRegistryAccess(paths: FlightDeckPaths, credentials: () => CredentialProvider) {
  async function client(registry: string, conn: Connection): Promise<RegistryClient> {
    const config = await loadConfig(paths);
    const opts: ClientOptions = { plainHttp: conn.plainHttp, plainHttpHosts: config.plainHttp, insecure: conn.insecure, credentials: credentials() };
    return new RegistryClient(registry, opts);
  }

  /** Run `fn` against a registry or an OCI layout, closing the client afterwards. */
  async function withSource<T>(ref: Reference, conn: Connection, fn: (source: ContentSource) => Promise<T>): Promise<T> {
    if (ref.kind === 'layout') return fn(layoutSource(await OciLayout.open(ref.dir, { create: false }), ref));
    const c = await client(ref.registry, conn);
    try {
      return await fn(registrySource(c, ref.repository, ref.digest ?? ref.tag ?? 'latest'));
    } finally {
      c.close();
    }
  }

  /** Pull a reference into the verified content store. */
  async function pullToStore(reference: string, conn: Connection, opts: PullOptions = {}): Promise<PullResult & { store: OciLayout }> {
    const ref = parseReference(reference);
    const store = await openStore(paths);
    return { ...(await withSource(ref, conn, (source) => pull(source, store, ref, opts))), store };
  }

  return { client, withSource, pullToStore };
}

export type RegistryAccess = ReturnType<typeof createRegistryAccess>;
