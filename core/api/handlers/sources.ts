import type { AreaHandlers, ApiContext } from '../context.js';
import { assetPath } from '../../config/package.js';
import { listModules, listSources } from '../../sources/sources.js';

/** Handlers of the app's own sources (contracts/sources.ts). */
export function sourcesHandlers(ctx: ApiContext): AreaHandlers<'sources.list' | 'sources.modules'> {
  return {
    async 'sources.list'() {
      return listSources(ctx.paths, assetPath('demo-kit'));
    },
    async 'sources.modules'(input, call) {
      return listModules(ctx.registry, input.reference, input.offline ?? false, call.signal);
    },
  };
}
