/**
 * The checks: each rule has a stable id and severity (listed in every report and in docs/platforms.md).
 * `checkTarget` is pure: an inspected target plus platform profiles in, a versioned report out.
 */
import type { CheckReport, Finding, ModuleSummary, PlatformEntry, Severity } from './schema.js';
import type { GatedFeature, InspectResult, WasmReport } from '../wasm/schema.js';
import { GATED_FEATURES } from '../wasm/features.js';
import { formatBytes } from '../units.js';

export const RULES = [
  {
    id: 'memory.initial-exceeds-budget',
    severity: 'error',
    summary: 'Initial linear memory plus code and data is larger than the platform budget (total memory minus runtime reserve).',
  },
  {
    id: 'memory.maximum-exceeds-budget',
    severity: 'warning',
    summary: 'The memory maximum lets the module grow past the budget; memory.grow will fail there.',
  },
  { id: 'memory.unbounded-maximum', severity: 'error', summary: 'A memory without a maximum on a kit with fixed memory (no virtual memory, no overcommit).' },
  { id: 'memory.memory64-unsupported', severity: 'error', summary: 'A 64-bit memory on a platform without memory64.' },
  { id: 'threads.unsupported', severity: 'error', summary: 'Shared memory or thread spawning on a single-threaded kit.' },
  { id: 'threads.declared-exceeds-platform', severity: 'error', summary: 'flight.cpu-threads asks for more threads than the platform has.' },
  { id: 'feature.unsupported', severity: 'error', summary: 'The module uses a WASM feature the platform does not accept.' },
  {
    id: 'component.unsupported',
    severity: 'error',
    summary: 'A component on a core-modules-only kit, or canonical built-ins beyond the basic set on a basic-components kit.',
  },
  { id: 'metadata.target-platform-mismatch', severity: 'error', summary: 'flight.target-platform names another platform.' },
  {
    id: 'metadata.memory-limit-exceeds-platform',
    severity: 'error',
    summary: 'flight.memory-limit (the memory the bundle was built for) is larger than the platform has.',
  },
  { id: 'metadata.memory-limit-below-modules', severity: 'error', summary: "A module's initial linear memory is larger than flight.memory-limit declares." },
  { id: 'metadata.cpu-threads-below-modules', severity: 'error', summary: 'flight.cpu-threads is 1 but a module uses threads.' },
  { id: 'metadata.invalid', severity: 'warning', summary: 'A flight.* annotation could not be read.' },
] as const satisfies ReadonlyArray<{ id: string; severity: Severity; summary: string }>;

export type RuleId = (typeof RULES)[number]['id'];

const RULE_SEVERITY = new Map<string, Severity>(RULES.map((r) => [r.id, r.severity]));

/** What a module (or a component with all its nested modules) needs. */
export function summarizeModule(path: string, sha256: string, rep: WasmReport): ModuleSummary {
  const mods = coreModules(rep);
  const memories = mods.flatMap((m) => m.memories);
  const initialBytes = sum(memories.map((m) => m.initialBytes));
  const maximumBytes = memories.some((m) => m.maximumBytes === null) ? null : sum(memories.map((m) => m.maximumBytes ?? 0));
  const codeBytes = sum(mods.map((m) => m.codeBytes));
  const dataBytes = sum(mods.map((m) => m.data.bytes));
  return {
    path,
    kind: rep.kind,
    size: rep.size,
    sha256,
    features: rep.features,
    threads: rep.threads.uses,
    memory: { initialBytes, maximumBytes, codeBytes, dataBytes, requiredBytes: initialBytes + codeBytes + dataBytes },
  };
}

/** The core modules of a report: itself, or every module nested in a component (each counted once). */
function coreModules(rep: WasmReport): WasmReport[] {
  return rep.kind === 'module' ? [rep] : rep.nested.flatMap((n) => coreModules(n.report));
}

function sum(values: number[]): number {
  return Math.min(
    values.reduce((a, b) => a + b, 0),
    Number.MAX_SAFE_INTEGER,
  );
}

/** Sizes like "16MB", "512 MiB", "2GB", "1048576". MB and MiB both mean 2^20 (the console convention). */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const scale = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
  return Math.round(Number(m[1]) * scale);
}

/** Sizes in findings keep the exact byte count when rounded: budgets are compared to the byte. */
const size = (n: number) => formatBytes(n, { exact: true });

function finding(ruleId: RuleId, message: string, module: string | null, extra: Pick<Finding, 'actual' | 'limit'> = {}): Finding {
  return { ruleId, severity: RULE_SEVERITY.get(ruleId)!, message, module, ...extra };
}

function checkModule(m: ModuleSummary, rep: WasmReport, entry: PlatformEntry): Finding[] {
  const p = entry.profile;
  const budget = entry.budgetBytes;
  const out: Finding[] = [];
  const mem = m.memory;
  if (mem.requiredBytes > budget) {
    out.push(
      finding(
        'memory.initial-exceeds-budget',
        `${m.path} needs ${size(mem.requiredBytes)} (memory ${size(mem.initialBytes)} + code ${size(mem.codeBytes)} + data ${size(mem.dataBytes)}), over the ${size(budget)} budget of ${p.name}.`,
        m.path,
        { actual: mem.requiredBytes, limit: budget },
      ),
    );
  }
  const memories = coreModules(rep).flatMap((r) => r.memories);
  if (mem.maximumBytes === null && memories.length > 0) {
    if (p.memory.fixed) {
      out.push(
        finding(
          'memory.unbounded-maximum',
          `${m.path} declares a memory without a maximum; ${p.name} has fixed memory, so set a maximum within ${size(budget)}.`,
          m.path,
          { limit: budget },
        ),
      );
    } else {
      out.push(
        finding(
          'memory.maximum-exceeds-budget',
          `${m.path} declares a memory without a maximum; it can grow past the ${size(budget)} budget of ${p.name}.`,
          m.path,
          { limit: budget },
        ),
      );
    }
  } else if (mem.maximumBytes !== null && mem.maximumBytes > budget) {
    out.push(
      finding('memory.maximum-exceeds-budget', `${m.path} may grow to ${size(mem.maximumBytes)}, past the ${size(budget)} budget of ${p.name}.`, m.path, {
        actual: mem.maximumBytes,
        limit: budget,
      }),
    );
  }
  if (!p.features.memory64 && m.features.includes('memory64')) {
    out.push(
      finding('memory.memory64-unsupported', `${m.path} uses 64-bit memories or tables; ${p.name} has 32-bit ones only.`, m.path, { actual: 'memory64' }),
    );
  }
  if (m.threads && p.threads.max === 1) {
    const how = [rep.threads.sharedMemory ? 'shared memory' : '', ...rep.threads.spawn].filter(Boolean).join(', ');
    out.push(finding('threads.unsupported', `${m.path} uses threads (${how}); ${p.name} is single-threaded.`, m.path, { actual: how, limit: 1 }));
  }
  for (const f of m.features) {
    if ((GATED_FEATURES as readonly string[]).includes(f) && f !== 'memory64' && !p.features[f as GatedFeature]) {
      out.push(finding('feature.unsupported', `${m.path} uses ${f}, which ${p.name} does not accept.`, m.path, { actual: f }));
    }
  }
  if (rep.kind === 'component') {
    const advanced = allAdvancedCanon(rep);
    if (p.componentModel === 'none') {
      out.push(finding('component.unsupported', `${m.path} is a component; ${p.name} runs core modules only.`, m.path, { actual: 'component' }));
    } else if (p.componentModel === 'basic' && advanced.length > 0) {
      out.push(
        finding(
          'component.unsupported',
          `${m.path} uses ${advanced.join(', ')}; ${p.name} accepts basic components only (lift, lower, resource built-ins).`,
          m.path,
          {
            actual: advanced.join(', '),
          },
        ),
      );
    }
  }
  return out;
}

function allAdvancedCanon(rep: WasmReport): string[] {
  return [...new Set([...(rep.component?.advancedCanon ?? []), ...rep.nested.flatMap((n) => allAdvancedCanon(n.report))])];
}

function checkAnnotations(annotations: Record<string, string>, modules: ModuleSummary[], entry: PlatformEntry): Finding[] {
  const p = entry.profile;
  const out: Finding[] = [];
  const target = annotations['flight.target-platform'];
  if (target !== undefined && target !== p.id) {
    out.push(
      finding('metadata.target-platform-mismatch', `The target is annotated flight.target-platform=${target}, but it is checked against ${p.id}.`, null, {
        actual: target,
        limit: p.id,
      }),
    );
  }
  const limitText = annotations['flight.memory-limit'];
  if (limitText !== undefined) {
    const limit = parseByteSize(limitText);
    if (limit === undefined) {
      out.push(finding('metadata.invalid', `flight.memory-limit=${JSON.stringify(limitText)} is not a size (e.g. 16MB).`, null, { actual: limitText }));
    } else {
      // The annotation states the target's memory as the publisher sees it (seeds: Dreamcast "16MB", Vita
      // "512MB"), so it is compared with the profile's total memory; what modules need is checked against
      // the budget by the memory rules.
      if (limit > p.memory.total) {
        out.push(
          finding('metadata.memory-limit-exceeds-platform', `flight.memory-limit=${limitText} is more than the ${size(p.memory.total)} of ${p.name}.`, null, {
            actual: limit,
            limit: p.memory.total,
          }),
        );
      }
      for (const m of modules) {
        if (m.memory.initialBytes > limit) {
          out.push(
            finding(
              'metadata.memory-limit-below-modules',
              `${m.path} starts with ${size(m.memory.initialBytes)} of linear memory, more than flight.memory-limit=${limitText}.`,
              m.path,
              {
                actual: m.memory.initialBytes,
                limit,
              },
            ),
          );
        }
      }
    }
  }
  const threadsText = annotations['flight.cpu-threads'];
  if (threadsText !== undefined) {
    const threads = /^\s*\d+\s*$/.test(threadsText) ? Number(threadsText) : undefined;
    if (threads === undefined || threads < 1) {
      out.push(finding('metadata.invalid', `flight.cpu-threads=${JSON.stringify(threadsText)} is not a positive whole number.`, null, { actual: threadsText }));
    } else {
      if (threads > p.threads.max) {
        out.push(
          finding('threads.declared-exceeds-platform', `flight.cpu-threads=${threads} is more than the ${p.threads.max} thread(s) of ${p.name}.`, null, {
            actual: threads,
            limit: p.threads.max,
          }),
        );
      }
      for (const m of modules) {
        if (threads === 1 && m.threads) {
          out.push(finding('metadata.cpu-threads-below-modules', `flight.cpu-threads=1 but ${m.path} uses threads.`, m.path, { actual: 'threads', limit: 1 }));
        }
      }
    }
  }
  return out;
}

/** Check every module of an inspected target against each platform. */
export function checkTarget(inspected: InspectResult, platforms: PlatformEntry[], toolVersion: string): CheckReport {
  const modules = inspected.modules.map((m) => summarizeModule(m.path, m.sha256, m.report));
  const results = platforms.map((entry) => {
    const findings = [
      ...inspected.modules.flatMap((m, i) => checkModule(modules[i]!, m.report, entry)),
      ...checkAnnotations(inspected.annotations, modules, entry),
    ];
    return {
      id: entry.profile.id,
      name: entry.profile.name,
      budgetBytes: entry.budgetBytes,
      maxThreads: entry.profile.threads.max,
      fits: !findings.some((f) => f.severity === 'error'),
      findings,
    };
  });
  const all = results.flatMap((r) => r.findings);
  const count = (s: Severity) => all.filter((f) => f.severity === s).length;
  return {
    schema: 'flightdeck.check-report/v1',
    tool: { name: 'flightdeck', version: toolVersion },
    target: inspected.target,
    inputKind: inspected.inputKind,
    annotations: inspected.annotations,
    modules,
    platforms: results,
    rules: RULES.map((r) => ({ id: r.id, severity: r.severity, summary: r.summary })),
    summary: { fits: results.every((r) => r.fits), errors: count('error'), warnings: count('warning'), notes: count('note') },
  };
}
