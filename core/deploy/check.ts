/**
 * The payload check `deploy` runs before sending a byte: the platform rules of core/platforms (memory,
 * threads, features, from a full parse of the module) against the device's platform profile.
 *
 * `checkLimits` is the device side's own enforcement, as a kit's loader would do it: the module's declared
 * memories (the core parser, engine-validated) against the device's limits. The emulator uses it; the host
 * uses `profileCheck`.
 */
import { createHash } from 'node:crypto';
import type { FlightDeckPaths } from '../config/paths.js';
import { packageVersion } from '../config/package.js';
import { FlightDeckError } from '../errors.js';
import { findProfiles } from '../platforms/profiles.js';
import { checkTarget } from '../platforms/rules.js';
import { parseWasm } from '../wasm/parser.js';
import type { PlatformLimits } from './platform-limits.js';

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
    const checked = checkTarget(
      { target: 'payload', inputKind: 'file', annotations: {}, modules: [{ path: 'payload', sha256, report }] },
      platforms,
      packageVersion(),
    );
    const findings = (checked.platforms[0]?.findings ?? []).map((f) => ({ rule: f.ruleId, message: f.message }));
    return { ok: checked.summary.fits, findings };
  };
}

/**
 * The device's own enforcement (the emulator's loader): the memories the module declares, read by the
 * core parser (core/wasm/parser.ts) with the engine's validation, whether defined or imported, 32- or
 * 64-bit, shared or not. Nothing is instantiated and no start function runs, so a module cannot dodge the
 * check by keeping its memory unexported or by trapping at start.
 */
export async function checkLimits(payload: Uint8Array, limits: PlatformLimits): Promise<CheckResult> {
  let report;
  try {
    report = await parseWasm(
      (async function* () {
        yield payload;
      })(),
      { name: 'payload', size: payload.length },
    );
  } catch (err) {
    if (err instanceof FlightDeckError && err.code === 'WASM_MALFORMED') {
      return { ok: false, findings: [{ rule: 'wasm', message: `not a WebAssembly core module the device can load: ${err.message}` }] };
    }
    throw err;
  }
  if (report.kind !== 'module') {
    return { ok: false, findings: [{ rule: 'wasm', message: `a WebAssembly ${report.kind}, not a core module the device can load` }] };
  }
  const findings: Finding[] = [];
  const name = (m: (typeof report.memories)[number]) => `${m.imported ? 'imported ' : ''}memory ${m.index}`;
  for (const m of report.memories) {
    if (m.initialBytes > limits.memory) {
      findings.push({ rule: 'memory', message: `${name(m)} starts at ${m.initialBytes} bytes; ${limits.name} gives a payload ${limits.memory}` });
    }
    if (m.shared && limits.threads < 2) {
      findings.push({ rule: 'threads', message: `${name(m)} is shared (threads); ${limits.name} has ${limits.threads} thread` });
    }
    if (m.memory64 && !limits.memory64) {
      findings.push({ rule: 'memory64', message: `${name(m)} is a 64-bit memory; ${limits.name} has 32-bit memories only` });
    }
  }
  const total = report.memories.reduce((sum, m) => sum + m.initialBytes, 0);
  if (report.memories.length > 1 && total > limits.memory && !findings.some((f) => f.rule === 'memory')) {
    findings.push({
      rule: 'memory',
      message: `its ${report.memories.length} memories start at ${total} bytes together; ${limits.name} gives a payload ${limits.memory}`,
    });
  }
  return { ok: findings.length === 0, findings };
}
