/**
 * The api one area at a time, for a caller that runs one method and exits (the CLI). An area's contract
 * entries (zod schemas) and handlers (and the core modules behind them) are loaded on its first call, with
 * `import()`, so `flightdeck inspect x.wasm` builds the schemas of the wasm area only: building all of them
 * cost ~48 ms of a ~100 ms start-up (issue 19, docs/benchmarks.md › start-up). In the CLI bundle esbuild
 * turns these imports into lazily run module bodies; no file is read at call time.
 *
 * Calls go through the same runCall as dispatch() (same validation, same envelope, same redaction), and the
 * areas are those of contract.ts and service.ts (areas.ts, checked by test/integration/core/api/lazy.test.ts).
 */
import type { ApiContext, ApiDeps } from './context.js';
import type { CallContext } from './dispatch.js';
import type { Envelope } from './contract.js';
import { areaOf, type Area } from './areas.js';
import { failedCall, runCall, unknownMethod, type AnyHandler, type CallSpec } from './call.js';

interface LoadedArea {
  spec: Readonly<Record<string, CallSpec>>;
  handlers: Readonly<Record<string, AnyHandler>>;
}

type AreaLoader = (ctx: ApiContext) => Promise<LoadedArea>;

// One typed seam: a contract table and a handler factory of the same area, as plain records.
const area =
  <C extends Record<string, CallSpec>, H>(load: () => Promise<[C, (ctx: ApiContext) => H]>): AreaLoader =>
  async (ctx) => {
    const [spec, factory] = await load();
    return { spec, handlers: factory(ctx) as unknown as Record<string, AnyHandler> };
  };

const AREAS: Record<Area, AreaLoader> = {
  app: area(async () => [(await import('./contracts/app.js')).appContract, (await import('./handlers/app.js')).appHandlers]),
  credentials: area(async () => [
    (await import('./contracts/credentials.js')).credentialsContract,
    (await import('./handlers/credentials.js')).credentialsHandlers,
  ]),
  deploy: area(async () => [(await import('./contracts/deploy.js')).deployContract, (await import('./handlers/deploy.js')).deployHandlers]),
  emulators: area(async () => [(await import('./contracts/emulators.js')).emulatorsContract, (await import('./handlers/emulators.js')).emulatorsHandlers]),
  files: area(async () => [(await import('./contracts/files.js')).filesContract, (await import('./handlers/files.js')).filesHandlers]),
  kits: area(async () => [(await import('./contracts/kits.js')).kitsContract, (await import('./handlers/kits.js')).kitsHandlers]),
  lab: area(async () => [(await import('./contracts/lab.js')).labContract, (await import('./handlers/lab.js')).labHandlers]),
  oci: area(async () => [(await import('./contracts/oci.js')).ociContract, (await import('./handlers/oci.js')).ociHandlers]),
  reports: area(async () => [(await import('./contracts/reports.js')).reportsContract, (await import('./handlers/reports.js')).reportsHandlers]),
  sources: area(async () => [(await import('./contracts/sources.js')).sourcesContract, (await import('./handlers/sources.js')).sourcesHandlers]),
  wasm: area(async () => [(await import('./contracts/wasm.js')).wasmContract, (await import('./handlers/wasm.js')).wasmHandlers]),
};

export interface LazyApi {
  /** One call, exactly as dispatch() would run it with every area loaded. */
  call(method: unknown, input: unknown, ctx?: Partial<CallContext>): Promise<Envelope<unknown>>;
  /** The areas loaded so far (for the tests). */
  loaded(): Area[];
}

export interface LazyApiOptions {
  /**
   * Parse without zod's JIT (`z.config({ jitless: true })`, process-wide). zod compiles a parser for each
   * object schema on its first parse, which pays off over many parses; a command that parses one input
   * and one output and exits only pays the compile (~10 ms for an inspect report). For the CLI only.
   */
  oneShot?: boolean;
}

export function createLazyApi(deps: ApiDeps, options: LazyApiOptions = {}): LazyApi {
  let context: Promise<ApiContext> | undefined;
  const areas = new Map<Area, Promise<LoadedArea>>();
  const load = (name: Area): Promise<LoadedArea> => {
    let loading = areas.get(name);
    if (!loading) {
      context ??= Promise.all([import('./compose.js'), options.oneShot ? import('zod').then(({ z }) => z.config({ jitless: true })) : undefined]).then(([m]) =>
        m.createApiContext(deps),
      );
      loading = context.then((ctx) => AREAS[name](ctx));
      areas.set(name, loading);
    }
    return loading;
  };
  return {
    async call(method, input, ctx = {}) {
      const name = areaOf(method);
      if (name === undefined) return failedCall(unknownMethod(method));
      let loaded: LoadedArea;
      try {
        loaded = await load(name);
      } catch (err) {
        return failedCall(err);
      }
      const m = method as string;
      const spec = loaded.spec[m];
      const handler = loaded.handlers[m];
      if (!spec || !handler) return failedCall(unknownMethod(method));
      return runCall(spec, handler, m, input, ctx);
    },
    loaded: () => [...areas.keys()],
  };
}
