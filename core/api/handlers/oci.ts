import type { AreaHandlers, ApiContext } from '../context.js';
import type { CallContext } from '../dispatch.js';
import { FlightDeckError } from '../../errors.js';
import { loadConfig } from '../../config/config.js';
import { listCache, openStore, pruneCache, verifyCache } from '../../oci/cache.js';
import { OutputWriter } from '../../oci/extract.js';
import type { BlobEvent } from '../../oci/pull.js';
import type { RetryNotice } from '../../oci/client.js';
import type { RetryEvent } from '../../oci/schema.js';
import { pushFiles } from '../../oci/push.js';
import { MASTER_REFERENCE, readMaster } from '../../oci/master.js';
import { listLayout } from '../../oci/layout-list.js';
import { formatReference, parseReference, parseRegistryReference, parseRegistryTarget } from '../../oci/reference.js';

type OciMethods = 'registry.inspect' | 'registry.master' | 'registry.pull' | 'registry.push' | 'registry.list' | 'cache.list' | 'cache.verify' | 'cache.prune';

/** Throttle per-blob byte events to ~10/s per blob; phase changes always pass. */
function blobEmitter(ctx: CallContext<'registry.pull'>): (e: BlobEvent) => void {
  const last = new Map<string, number>();
  return (e) => {
    const now = Date.now();
    if (e.phase === 'bytes') {
      if (now - (last.get(e.digest) ?? 0) < 100) return;
      last.set(e.digest, now);
    }
    ctx.emit({ type: 'progress', task: 'blob', ...e });
  };
}

/** Retries of registry requests as `retry` events, so a slow or failing registry is never silent. */
function retryEmitter(ctx: { emit: (event: RetryEvent) => void }): (notice: RetryNotice) => void {
  return (notice) => ctx.emit({ type: 'retry', ...notice });
}

/** Handlers of the registry client and content store (contracts/oci.ts). */
export function ociHandlers(ctx: ApiContext): AreaHandlers<OciMethods> {
  const { paths } = ctx;
  const { primaryClient, withSource } = ctx.registry;

  return {
    async 'registry.inspect'(input, call) {
      const ref = parseReference(await ctx.registry.qualify(input.reference));
      return withSource(ref, input, async (source) => {
        const { descriptor, manifest } = await source.resolve(call.signal);
        const layers = manifest.kind === 'manifest' ? manifest.layers : [];
        const manifests = manifest.kind === 'index' ? manifest.manifests : [];
        const config = manifest.kind === 'manifest' ? manifest.config : undefined;
        return {
          reference: formatReference(ref),
          digest: descriptor.digest,
          mediaType: manifest.mediaType,
          ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
          size: descriptor.size,
          annotations: manifest.annotations,
          ...(config ? { config: stripData(config) } : {}),
          layers: layers.map(stripData),
          manifests: manifests.map(stripData),
          totalSize: descriptor.size + [...layers, ...manifests, ...(config ? [config] : [])].reduce((a, d) => a + d.size, 0),
        };
      });
    },

    async 'registry.pull'(input, call) {
      // --output: a file shares the store's verified copy when the folder is on its file system (clone or
      // hard link: no second write); else downloads write it from the same verified stream as the store.
      // Blobs already stored are verified when shared or read, so the skip path hashes nothing.
      const output = input.output ? new OutputWriter(input.output, { unpack: Boolean(input.unpack), linkMode: input.linkMode }) : undefined;
      let pulled;
      try {
        pulled = await ctx.registry.pullToStore(
          input.reference,
          { ...input, onRetry: retryEmitter(call) },
          {
            concurrency: input.concurrency,
            platform: input.platform,
            signal: call.signal,
            onEvent: blobEmitter(call),
            verifyExisting: !output,
            copyTo: output?.copyTo,
          },
        );
      } catch (err) {
        await output?.abort();
        throw err;
      }
      const { store, ...result } = pulled;
      const files = output ? await output.write(store, result.layers) : [];
      return { ...result, layers: result.layers.map(stripData), files, store: store.root };
    },

    async 'registry.push'(input, call) {
      const ref = parseRegistryReference(input.reference);
      if (ref.digest) {
        throw new FlightDeckError('REFERENCE_INVALID', `Push to ${input.reference}: name a tag, not a digest (the digest comes from the content).`);
      }
      // Never to a mirror; to the registry's registries.conf `location` when one rewrites the name.
      const { client: c, repository } = await primaryClient(ref.registry, ref.repository, { ...input, onRetry: retryEmitter(call) });
      try {
        const result = await pushFiles(c, repository, ref.tag ?? 'latest', input.files, {
          artifactType: input.artifactType,
          annotations: input.annotations,
          chunkSize: input.chunkSize,
          mountFrom: input.mountFrom,
          signal: call.signal,
          onEvent: (e) => call.emit({ type: 'progress', task: 'push', ...e }),
        });
        return { ...result, layers: result.layers.map(stripData) };
      } finally {
        c.close();
      }
    },

    async 'registry.list'(input, call) {
      // An image layout on disk: its repositories and tags, no network.
      if (input.target.trim().startsWith('oci:')) return listLayout(input.target);
      // A short name with a registries.conf alias lists the alias's repository.
      const target = parseRegistryTarget((await ctx.registry.aliasFor(input.target, { fileOk: false })) ?? input.target);
      // A registries.conf `location` is listed in place of the registry; names are shown canonical.
      const { client: c, repository: at } = await primaryClient(target.registry, target.repository, input);
      const physical = at || undefined;
      const under = (repos: string[]) => (physical ? repos.filter((r) => r.startsWith(`${physical}/`)) : repos);
      try {
        if (target.repository && physical) {
          try {
            const tags = await c.listTags(physical, call.signal);
            return { registry: target.registry, repository: target.repository, kind: 'tags' as const, items: tags.sort() };
          } catch (err) {
            // A namespace like flight/shared-types is not a repository: list the repositories under it.
            if (!(err instanceof FlightDeckError && err.code === 'NOT_FOUND')) throw err;
            const repos = await c.catalog(call.signal).catch(() => undefined);
            const found = repos ? under(repos) : undefined;
            if (!found || found.length === 0) throw err;
            return {
              registry: target.registry,
              repository: target.repository,
              kind: 'repositories' as const,
              items: found.map((r) => `${target.repository}/${r.slice(physical.length + 1)}`).sort(),
            };
          }
        }
        try {
          const repos = await c.catalog(call.signal);
          return {
            registry: target.registry,
            kind: 'repositories' as const,
            items: (physical ? under(repos).map((r) => r.slice(physical.length + 1)) : repos).sort(),
          };
        } catch (err) {
          if (err instanceof FlightDeckError && ['NOT_FOUND', 'REGISTRY_FORBIDDEN', 'REGISTRY_UNAUTHORIZED'].includes(err.code)) {
            return {
              registry: target.registry,
              kind: 'repositories' as const,
              items: [],
              note: `${target.registry} does not expose its catalog (${err.code}); list a repository's tags with \`flightdeck ls ${target.registry}/<repo>\`.`,
            };
          }
          throw err;
        }
      } finally {
        c.close();
      }
    },

    async 'registry.master'(input, call) {
      const ref = parseRegistryReference(`${input.registry}/${input.reference ?? MASTER_REFERENCE}`);
      const store = await openStore(paths);
      return withSource(ref, input, (source) => readMaster(source, store, ref, call.signal));
    },

    async 'cache.list'() {
      return listCache(await openStore(paths));
    },

    async 'cache.verify'(input, call) {
      return verifyCache(await openStore(paths), {
        fix: input.fix,
        signal: call.signal,
        onProgress: (done, total) => call.emit({ type: 'progress', task: 'verify', done, total }),
      });
    },

    async 'cache.prune'(input) {
      const config = await loadConfig(paths);
      return pruneCache(await openStore(paths), { olderThanMs: input.olderThanMs, maxBytes: input.maxBytes, graceMs: config.prune.graceSeconds * 1000 });
    },
  };
}

function stripData<T extends { data?: string | undefined; urls?: string[] | undefined; digest: string }>(d: T): Omit<T, 'data' | 'urls'> {
  const { data: _data, urls: _urls, ...rest } = d;
  return rest;
}
