/**
 * Which area declares each api method (contracts/<area>.ts, handlers/<area>.ts), as plain strings: no zod,
 * no handler code. With it a caller that runs one command (the CLI) loads only that area's schemas and
 * handlers (core/api/lazy.ts) instead of all of them: building every zod schema of the contract was half
 * of `flightdeck inspect small.wasm`'s own start-up time (issue 19, docs/benchmarks.md).
 *
 * The type below makes a method missing here, or listed under a method name the contract does not have, a
 * compile error; test/integration/core/api/lazy.test.ts checks each method sits under the area whose contract
 * declares it.
 */
import type { Method } from './contract.js';

export const AREA_METHODS = {
  app: ['app.version', 'doctor.run', 'registry.test', 'registry.settings.list', 'registry.settings.save', 'registry.settings.remove'],
  credentials: ['credentials.list', 'credentials.login', 'credentials.logout', 'credentials.test'],
  deploy: ['deploy.run', 'deploy.fleet', 'receipts.list', 'devices.list', 'device.status', 'device.rollback', 'device.conformance', 'device.monitor'],
  emulators: ['emulators.start', 'emulators.stop', 'emulators.local'],
  files: ['files.upload.begin', 'files.upload.chunk', 'files.upload.finish', 'files.upload.abort'],
  kits: ['kit.build', 'kit.verify', 'kit.import', 'kit.push'],
  lab: ['lab.lock', 'lab.sync', 'lab.deploy', 'lab.status'],
  oci: ['registry.inspect', 'registry.pull', 'registry.push', 'registry.list', 'registry.master', 'cache.list', 'cache.verify', 'cache.prune'],
  reports: ['check.export'],
  sources: ['sources.list', 'sources.modules'],
  wasm: ['platforms.list', 'wasm.inspect', 'wasm.check'],
} as const satisfies Record<string, readonly Method[]>;

export type Area = keyof typeof AREA_METHODS;
export type MethodOf<A extends Area> = (typeof AREA_METHODS)[A][number];

/** Compile-time completeness: a contract method not listed above makes this `true` type fail. */
type Unlisted = Exclude<Method, MethodOf<Area>>;
const complete: [Unlisted] extends [never] ? true : { unlisted: Unlisted } = true;
void complete;

const AREA_OF = new Map<string, Area>(Object.entries(AREA_METHODS).flatMap(([area, methods]) => methods.map((m) => [m, area as Area] as const)));

/** The area that declares `method`; undefined for a name the api does not have. */
export function areaOf(method: unknown): Area | undefined {
  return typeof method === 'string' ? AREA_OF.get(method) : undefined;
}
