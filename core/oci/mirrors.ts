/**
 * Pulls through mirrors (registries.conf `[[registry.mirror]]`, config.json `mirrors`): a content source
 * that tries each mirror in order and then the registry itself. Digests make a mirror safe: manifests by
 * digest are checked by the client, and every blob a mirror serves from its first byte is hashed here as it
 * passes, so a mirror that serves other bytes fails that blob (nothing is stored: the blob writer restarts
 * from zero with the next endpoint) and the download goes on from the next endpoint. Each fallback is
 * announced (a retry notice naming the endpoint); when every endpoint fails the error lists each one's
 * reason (MIRROR_FAILED). The reference stays the canonical one: only the bytes come from the mirror.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FlightDeckError } from '../errors.js';
import { NetworkError } from './http-error.js';
import type { Descriptor } from './manifest.js';
import type { ContentSource } from './pull.js';
import type { RetryNotice } from './schema.js';

export interface Endpoint {
  /** `host[:port]/repo` as shown in messages and events. */
  name: string;
  mirror: boolean;
  source: ContentSource;
}

/** Which endpoint served each blob (by digest), for the `--json` events. */
export type ServedBy = Map<string, string>;

function reasonOf(err: unknown): string {
  if (err instanceof FlightDeckError) return `[${err.code}] ${err.message}`;
  return (err as Error).message ?? String(err);
}

/** A blob stream that fails (retryably) at its end when the bytes do not hash to the descriptor's digest. */
function verified(stream: AsyncIterable<Buffer>, desc: Descriptor, endpoint: string, onBad: () => void): AsyncIterable<Buffer> {
  const [algo, hex] = desc.digest.split(':') as [string, string];
  return Readable.from(
    (async function* () {
      const hash = createHash(algo);
      for await (const chunk of stream) {
        hash.update(chunk);
        yield chunk;
      }
      if (hash.digest('hex') !== hex) {
        onBad();
        throw new NetworkError(`${endpoint} served blob ${desc.digest} with other content; trying the next endpoint`, 'EMIRROR_DIGEST');
      }
    })(),
    { objectMode: true },
  );
}

/** Codes that say an endpoint could not be reached at all (not that it lacked the content). */
export const UNREACHABLE = ['REGISTRY_UNREACHABLE', 'PROXY_UNREACHABLE'];

/** The host[:port] of an endpoint name (`host[:port]/repo`): what `down` records (reachability is a host's). */
export function endpointHost(name: string): string {
  return name.split('/')[0] ?? name;
}

export function mirroredSource(
  endpoints: readonly Endpoint[],
  opts: {
    onRetry?: ((n: RetryNotice) => void) | undefined;
    registry: string;
    servedBy?: ServedBy;
    /**
     * Hosts (`endpointHost`) found unreachable earlier in the same operation, shared by its sources (one
     * Set per operation, made by its caller: never kept across operations): their endpoints are skipped
     * from then on, so a registry out of reach behind a working mirror costs its retry window once per
     * operation, not once per request or repository (kit build probes many tags in many repositories).
     */
    down?: Set<string>;
  },
): ContentSource {
  const upstream = endpoints[endpoints.length - 1] as Endpoint;
  /** Endpoints that failed a blob (by digest): skipped for it from then on. */
  const failedFor = new Map<string, Set<string>>();
  /** Blobs whose partial may hold another endpoint's bytes: the next endpoint starts them from zero. */
  const tainted = new Set<string>();

  const announce = (from: Endpoint, next: Endpoint | undefined, request: string, err: unknown) => {
    if (!next) return;
    opts.onRetry?.({
      registry: from.name.split('/')[0] ?? from.name,
      request,
      reason: `${from.mirror ? 'mirror ' : ''}${from.name} failed (${reasonOf(err)}); trying ${next.mirror ? 'mirror ' : ''}${next.name}`,
      attempt: 1,
      of: 1,
      waitMs: 0,
    });
  };

  async function firstOk<T>(list: readonly Endpoint[], request: string, fn: (e: Endpoint) => Promise<T>): Promise<T> {
    const reasons: Array<{ endpoint: string; reason: string; err: unknown }> = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Endpoint;
      if (opts.down?.has(endpointHost(e.name))) {
        const err = new FlightDeckError('REGISTRY_UNREACHABLE', `${endpointHost(e.name)} was unreachable earlier in this operation; not tried again`);
        reasons.push({ endpoint: e.name, reason: reasonOf(err), err });
        continue;
      }
      try {
        return await fn(e);
      } catch (err) {
        if (err instanceof FlightDeckError && err.code === 'ABORTED') throw err;
        if (err instanceof FlightDeckError && UNREACHABLE.includes(err.code)) opts.down?.add(endpointHost(e.name));
        reasons.push({ endpoint: e.name, reason: reasonOf(err), err });
        announce(
          e,
          list.slice(i + 1).find((x) => !opts.down?.has(endpointHost(x.name))),
          request,
          err,
        );
      }
    }
    const last = reasons[reasons.length - 1];
    if (reasons.length === 1 && last) throw last.err;
    throw new FlightDeckError('MIRROR_FAILED', `${request}: every endpoint failed:\n${reasons.map((r) => `  ${r.endpoint}: ${r.reason}`).join('\n')}`, {
      details: {
        registry: opts.registry,
        endpoints: reasons.map((r) => ({ endpoint: r.endpoint, reason: r.reason, ...(r.err instanceof FlightDeckError ? { code: r.err.code } : {}) })),
      },
    });
  }

  return {
    name: upstream.source.name,
    retries: upstream.source.retries,
    resolve: (signal) => firstOk(endpoints, `manifest of ${upstream.name}`, (e) => e.source.resolve(signal)),
    manifest: (desc, signal) => firstOk(endpoints, `manifest ${desc.digest}`, (e) => e.source.manifest(desc, signal)),
    async blob(desc, offset, signal) {
      const skip = failedFor.get(desc.digest) ?? new Set<string>();
      failedFor.set(desc.digest, skip);
      const list = endpoints.filter((e) => !skip.has(e.name));
      if (list.length === 0) {
        throw new FlightDeckError('MIRROR_FAILED', `Blob ${desc.digest}: every endpoint failed (${endpoints.map((e) => e.name).join(', ')}).`, {
          details: { registry: opts.registry, digest: desc.digest },
        });
      }
      return firstOk(list, `blob ${desc.digest}`, async (e) => {
        const from = tainted.has(desc.digest) ? 0 : offset;
        let got: { start: number; stream: AsyncIterable<Buffer> };
        try {
          got = await e.source.blob(desc, from, signal);
        } catch (err) {
          skip.add(e.name);
          throw err;
        }
        tainted.delete(desc.digest);
        opts.servedBy?.set(desc.digest, e.name);
        // A mirror's bytes are hashed here when it serves the whole blob; the store's writer checks again.
        if (!e.mirror || got.start !== 0) return got;
        return {
          start: 0,
          stream: verified(got.stream, desc, e.name, () => {
            skip.add(e.name);
            tainted.add(desc.digest);
            opts.servedBy?.delete(desc.digest);
            const next = endpoints.find((x) => !skip.has(x.name));
            announce(e, next, `blob ${desc.digest}`, new Error(`served blob ${desc.digest} with other content (digest mismatch); nothing of it is stored`));
          }),
        };
      });
    },
    pause: (attempt, signal) => upstream.source.pause(attempt, signal),
  };
}

/**
 * Whether an error says the content is not there: NOT_FOUND, or MIRROR_FAILED where at least one endpoint
 * answered NOT_FOUND and every other one could not be reached (the air-gapped case: the mirror lacks it and
 * the registry is out of reach). Callers that probe for optional content (signature tags) treat it as absent.
 */
export function isNotFound(err: unknown): boolean {
  if (!(err instanceof FlightDeckError)) return false;
  if (err.code === 'NOT_FOUND') return true;
  if (err.code !== 'MIRROR_FAILED') return false;
  const endpoints = (err.details as { endpoints?: Array<{ code?: string }> } | undefined)?.endpoints ?? [];
  return endpoints.some((e) => e.code === 'NOT_FOUND') && endpoints.every((e) => e.code === 'NOT_FOUND' || UNREACHABLE.includes(e.code ?? ''));
}
