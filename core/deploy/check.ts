/**
 * The payload check port `deploy` runs before sending a byte, and an interim implementation.
 *
 * INTERIM: `limitsCheck` stands in for the WASM platform check of issue 5 (core/wasm + core/platforms)
 * until the lead wires it in. It does not parse the binary: it compiles the module with the engine and
 * instantiates it against stub imports, reading what the engine exposes (initial size and sharedness of
 * a defined memory; link failure of an imported one). The emulator enforces its limits the same way.
 */
import { platformLimits, type PlatformLimits } from './platform-limits.js';
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

export const limitsCheck: PayloadCheck = async (payload, platformId) => checkLimits(payload, platformLimits(platformId));

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
  // platforms) shared; a module whose own maximum is below that size is refused too (interim limitation).
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
