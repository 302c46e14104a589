/**
 * The payload check `deploy` runs before sending a byte: the platform rules of core/platforms (memory,
 * threads, features, from a full parse of the module) against the device's platform profile.
 *
 * `checkLimits` is the device side's own enforcement, as a kit's loader would do it: compile the module
 * with the engine and instantiate it against stub imports, refusing what exceeds the device's limits.
 * The emulator uses it; the host uses `profileCheck`.
 */
import { createHash } from 'node:crypto';
import type { FlightDeckPaths } from '../config/paths.js';
import { packageVersion } from '../config/package.js';
import { FlightDeckError } from '../errors.js';
import { findProfiles } from '../platforms/profiles.js';
import { checkTarget } from '../platforms/rules.js';
import { parseWasm } from '../wasm/parser.js';
import type { PlatformLimits } from './platform-limits.js';
import { wasm, type WasmImports, type WasmInstance, type WasmModule } from './wasm-api.js';

export interface Finding {
  rule: string;
  message: string;
}

export interface CheckResult {
  ok: boolean;
  findings: Finding[];
}

/** Does this payload fit that platform? Resolves with findings; rejects only for an unknown platform. */
export type PayloadCheck = (payload: Uint8Array, platformId: string) => Promise<CheckResult>;

/** The host-side check: the platform profile (built in or the user's) and the rules of `flightdeck check`. */
export function profileCheck(paths: FlightDeckPaths): PayloadCheck {
  return async (payload, platformId) => {
    const platforms = await findProfiles(paths, [platformId]); // PLATFORM_UNKNOWN for an unknown id
    let report;
    try {
      report = await parseWasm(
        (async function* () {
          yield payload;
        })(),
        { name: 'payload', size: payload.length },
      );
    } catch (err) {
      if (err instanceof FlightDeckError && err.code === 'WASM_MALFORMED') return { ok: false, findings: [{ rule: 'wasm.malformed', message: err.message }] };
      throw err;
    }
    const sha256 = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
    const checked = checkTarget({ target: 'payload', inputKind: 'file', annotations: {}, modules: [{ path: 'payload', sha256, report }] }, platforms, packageVersion());
    const findings = (checked.platforms[0]?.findings ?? []).map((f) => ({ rule: f.ruleId, message: f.message }));
    return { ok: checked.summary.fits, findings };
  };
}

const PAGE = 65536;

export async function checkLimits(payload: Uint8Array, limits: PlatformLimits): Promise<CheckResult> {
  const findings: Finding[] = [];
  let module: WasmModule;
  try {
    module = await wasm.compile(payload);
  } catch (err) {
    return { ok: false, findings: [{ rule: 'wasm', message: `not a WebAssembly core module the device can load: ${(err as Error).message}` }] };
  }
  const pages = Math.floor(limits.memory / PAGE);
  // An imported memory is offered at the platform's full size, unshared and then (multi-threaded
  // platforms) shared; a module whose own maximum is below that size is refused too (a limit of engine-based loading).
  const variants = limits.threads > 1 ? [false, true] : [false];
  let instance: WasmInstance | undefined;
  let linkError: unknown;
  for (const shared of variants) {
    try {
      instance = await wasm.instantiate(module, stubImports(module, pages, shared));
      break;
    } catch (err) {
      // A trap in the start function (stub imports) says nothing about the limits.
      if (!(err instanceof wasm.LinkError)) return { ok: true, findings };
      linkError = err;
    }
  }
  if (!instance) {
    findings.push({ rule: 'imports', message: `the device cannot satisfy its imports within ${limits.name}'s limits: ${(linkError as Error).message}` });
    return { ok: false, findings };
  }
  for (const [name, value] of Object.entries(instance.exports)) {
    if (!(value instanceof wasm.Memory)) continue;
    const bytes = value.buffer.byteLength;
    if (bytes > limits.memory) {
      findings.push({ rule: 'memory', message: `memory "${name}" starts at ${bytes} bytes; ${limits.name} gives a payload ${limits.memory}` });
    }
    if (value.buffer instanceof SharedArrayBuffer && limits.threads < 2) {
      findings.push({ rule: 'threads', message: `memory "${name}" is shared (threads); ${limits.name} has ${limits.threads} thread` });
    }
  }
  return { ok: findings.length === 0, findings };
}

function stubImports(module: WasmModule, pages: number, shared: boolean): WasmImports {
  const imports: WasmImports = {};
  for (const imp of wasm.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {});
    if (imp.kind === 'function') {
      ns[imp.name] = () => {
        throw new Error('stub import called during the check');
      };
    } else if (imp.kind === 'memory') {
      ns[imp.name] = new wasm.Memory({ initial: pages, maximum: pages, ...(shared ? { shared: true } : {}) });
    }
  }
  return imports;
}
