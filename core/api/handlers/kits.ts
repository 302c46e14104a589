import os from 'node:os';
import type { AreaHandlers, ApiContext } from '../context.js';
import type { EventOf } from '../contract.js';
import { openStore } from '../../oci/cache.js';
import { OciLayout } from '../../oci/layout.js';
import type { Connection } from '../../oci/access.js';
import type { RegistryClient } from '../../oci/client.js';
import { layoutSource } from '../../oci/pull.js';
import { isDigest, parseLayoutReference, parseRegistryTarget } from '../../oci/reference.js';
import { FlightDeckError } from '../../errors.js';
import { buildKit, type KitOrigin } from '../../kits/build.js';
import { importKit, openKit, refuse, verifyKit } from '../../kits/import.js';
import { pushKitDir } from '../../kits/push.js';
import { loadPolicy } from '../../kits/signatures.js';
import { findProfiles } from '../../platforms/profiles.js';
import { verifyKitDir } from '../../kits/verify.js';
import { labKitSelection } from '../../lab/kit.js';

type KitMethods = 'kit.build' | 'kit.verify' | 'kit.import' | 'kit.push';
export const DEFAULT_NAMESPACE = 'flight/shared-types';

/** Verify progress of kit.verify and kit.import (their declared `progress` event, task `verify`). */
const progress = (call: { emit: (event: EventOf<'kit.verify'>) => void }) => (done: number, total: number) =>
  call.emit({ type: 'progress', task: 'verify', done, total });

/** Handlers of offline kits (contracts/kits.ts). */
export function kitsHandlers(ctx: ApiContext): AreaHandlers<KitMethods> {
  const { paths } = ctx;

  /** `--from`: `host[:port]/<namespace>` or `oci:<dir>[:<namespace>]`. */
  async function openOrigin(from: string, conn: Connection): Promise<{ origin: KitOrigin; close: () => void }> {
    if (from.startsWith('oci:')) {
      const ref = parseLayoutReference(from);
      const layout = await OciLayout.open(ref.dir, { create: false });
      const origin: KitOrigin = {
        from,
        registry: null,
        namespace: ref.tag ?? DEFAULT_NAMESPACE,
        source: (repo, r) => layoutSource(layout, isDigest(r) ? { digest: r } : { tag: `${repo}:${r}` }),
        reference: (_repo, digest) => ({ kind: 'layout', dir: layout.root, tag: undefined, digest }),
        referrers: async () => null,
      };
      return { origin, close: () => {} };
    }
    const target = parseRegistryTarget(from);
    if (!target.repository) throw new FlightDeckError('USAGE', `--from ${from}: name the namespace too (e.g. ${from}/${DEFAULT_NAMESPACE}).`);
    // Read like a pull: mirrors, a rewritten location, digests checked, fallback (core/oci/access.ts).
    const content = await ctx.registry.registryContent(target.registry, conn);
    const origin: KitOrigin = {
      from,
      registry: target.registry,
      namespace: target.repository,
      source: (repo, r) => content.source(repo, r),
      reference: (repo, digest) => ({ kind: 'registry', registry: target.registry, repository: repo, tag: undefined, digest }),
      referrers: (repo, digest, signal) => content.referrers(repo, digest, signal),
      servedBy: content.servedBy,
    };
    return { origin, close: () => content.close() };
  }

  return {
    async 'kit.build'(input, call) {
      const lab = input.lab ? await labKitSelection(input.lab, paths) : undefined;
      const platforms = lab?.platforms ?? input.platforms;
      const from = lab?.from ?? input.from;
      if (lab && (input.platforms.length || input.from))
        throw new FlightDeckError('USAGE', '--lab gives the platforms and the source; drop --platform and --from.');
      if (!from || platforms.length === 0) throw new FlightDeckError('USAGE', 'kit build needs --platform and --from, or --lab FILE.');
      await findProfiles(paths, platforms); // an unknown platform fails before any network call
      const policy = await loadPolicy(paths, input.policy ?? lab?.policy);
      const { origin, close } = await openOrigin(from, { ...input, onRetry: (notice) => call.emit({ type: 'retry', ...notice }) });
      try {
        return await buildKit({
          origin,
          store: await openStore(paths),
          paths,
          platforms,
          tag: input.tag ?? 'latest',
          include: lab ? [] : (input.include ?? ['wit']),
          pins: lab?.pins,
          output: input.output,
          replace: input.replace === true,
          created: input.created,
          sourceDateEpoch: (ctx.deps.env ?? process.env).SOURCE_DATE_EPOCH,
          policy,
          signal: call.signal,
          onEvent: (e) => call.emit(e),
        });
      } finally {
        close();
      }
    },

    async 'kit.verify'(input, call) {
      return verifyKit(input.kit, { paths, policy: await loadPolicy(paths, input.policy), signal: call.signal, onProgress: progress(call) });
    },

    async 'kit.import'(input, call) {
      return importKit(input.kit, await openStore(paths), {
        paths,
        policy: await loadPolicy(paths, input.policy),
        signal: call.signal,
        onProgress: progress(call),
      });
    },

    async 'kit.push'(input, call) {
      const policy = await loadPolicy(paths, input.policy);
      const opened = await openKit(input.kit, os.tmpdir());
      try {
        const report = await verifyKitDir(input.kit, opened.dir, {
          paths,
          policy,
          signal: call.signal,
          ...(opened.extracted ? { hashed: opened.extracted.hashed } : {}),
        });
        if (!report.ok) refuse(report, 'pushed');
        // Each repository to the registry, or to the registries.conf `location` its name is rewritten to.
        const clients = new Map<string, Promise<{ client: RegistryClient; repository: string }>>();
        const open = (repository: string) => {
          let c = clients.get(repository);
          if (!c) {
            c = ctx.registry.primaryClient(input.registry, repository, input);
            clients.set(repository, c);
          }
          return c;
        };
        try {
          return await pushKitDir(opened.dir, { registry: input.registry, open }, call.signal);
        } finally {
          for (const c of clients.values()) await c.then((x) => x.client.close()).catch(() => {});
        }
      } finally {
        await opened.close();
      }
    },
  };
}
