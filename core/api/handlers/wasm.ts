import type { AreaHandlers, ApiContext } from '../context.js';
import { loadProfiles, findProfiles } from '../../platforms/profiles.js';
import { checkTarget } from '../../platforms/rules.js';
import { inspectTarget } from '../../wasm/target.js';
import { packageVersion } from '../../config/package.js';

/** Handlers of WASM inspection and platform checks (contracts/wasm.ts). */
export function wasmHandlers(ctx: ApiContext): AreaHandlers<'platforms.list' | 'wasm.inspect' | 'wasm.check'> {
  const { paths } = ctx;
  /**
   * Registry references are brought into the verified content store, then read from there like any layout
   * (the walk reads every blob verified right after, so the pull does not hash the ones already stored).
   */
  const resolver = (offline: boolean | undefined) => async (reference: string, signal?: AbortSignal) =>
    (await ctx.registry.localContent(reference, { offline }, signal)).target;
  return {
    async 'platforms.list'() {
      return { platforms: await loadProfiles(paths) };
    },
    async 'wasm.inspect'(input, call) {
      // A short name with a registries.conf alias (and no such file) is the alias's reference.
      return inspectTarget((await ctx.registry.aliasFor(input.target)) ?? input.target, {
        resolveReference: resolver(input.offline),
        // Opt-in here only (issue 19): the decoder already rejects malformed structure, and the engine's
        // validation (a worker thread, a second pass over every byte) is a cost most inspections do not
        // need. wasm.check (and deploy) keep it always: they decide whether a module may run.
        crossCheck: input.engineCheck === true,
        signal: call.signal,
        onModule: (path, done) => call.emit({ type: 'progress', task: 'inspect', done, detail: path }),
      });
    },
    async 'wasm.check'(input, call) {
      // Resolve the platforms first: an unknown id fails before any work on the target.
      const platforms = await findProfiles(paths, input.platforms);
      const inspected = await inspectTarget((await ctx.registry.aliasFor(input.target)) ?? input.target, {
        resolveReference: resolver(input.offline),
        signal: call.signal,
        onModule: (path, done) => call.emit({ type: 'progress', task: 'check', done, detail: path }),
      });
      return checkTarget(inspected, platforms, packageVersion());
    },
  };
}
