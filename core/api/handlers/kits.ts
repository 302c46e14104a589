import os from 'node:os';
import type { AreaHandlers, ApiContext } from '../context.js';
import type { EventOf } from '../contract.js';
import { openStore } from '../../oci/cache.js';
import { OciLayout } from '../../oci/layout.js';
import { layoutSource, registrySource } from '../../oci/pull.js';
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
  async function openOrigin(
    from: string,
    conn: { plainHttp?: boolean | undefined; insecure?: boolean | undefined },
  ): Promise<{ origin: KitOrigin; close: () => void }> {
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
    const client = await ctx.registry.client(target.registry, conn, target.repository);
    const origin: KitOrigin = {
      from,
      registry: target.registry,
      namespace: target.repository,
      source: (repo, r) => registrySource(client, repo, r),
      reference: (repo, digest) => ({ kind: 'registry', registry: target.registry, repository: repo, tag: undefined, digest }),
      referrers: (repo, digest, signal) => client.referrers(repo, digest, signal),
    };
    return { origin, close: () => client.close() };
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
      const { origin, close } = await openOrigin(from, input);
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
        const client = await ctx.registry.client(input.registry, input);
        try {
          return await pushKitDir(opened.dir, client, call.signal);
        } finally {
          client.close();
        }
      } finally {
        await opened.close();
      }
    },
  };
}
