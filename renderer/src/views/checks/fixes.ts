import type { CheckReport, Finding } from '../../../../core/api/contract.js';

type PlatformResult = CheckReport['platforms'][number];

const MiB = 1024 * 1024;

/** Whole MiB at or below a byte count (a build flag wants a round number that fits). */
const mib = (bytes: number) => Math.max(1, Math.floor(bytes / MiB));

/**
 * What to do about a finding, in one sentence with the build flag when there is one (Emscripten's
 * `-s…` and wasm-ld's `--…`, in backticks: shown as code), or the bundle to use instead. `otherBundle`: a bundle the app has for
 * this platform, when the target was built for another.
 */
export function fixFor(f: Finding, p: PlatformResult, otherBundle?: string): string | undefined {
  const budget = typeof f.limit === 'number' ? f.limit : p.budgetBytes;
  switch (f.ruleId) {
    case 'memory.initial-exceeds-budget':
      return `Build with a smaller initial memory: \`-sINITIAL_MEMORY=${mib(budget)}MB\` (Emscripten) or \`--initial-memory=${mib(budget) * MiB}\` (wasm-ld).`;
    case 'memory.maximum-exceeds-budget':
    case 'memory.unbounded-maximum':
      return `Cap the memory: \`-sMAXIMUM_MEMORY=${mib(budget)}MB\` (Emscripten) or \`--max-memory=${mib(budget) * MiB}\` (wasm-ld).`;
    case 'memory.memory64-unsupported':
      return 'Build for 32-bit memory (no `-sMEMORY64`, wasm32 target).';
    case 'threads.unsupported':
    case 'metadata.cpu-threads-below-modules':
      return otherBundle
        ? `Deploy the ${p.name} bundle instead, or build without threads (no \`-pthread\`, no shared memory).`
        : 'Build without threads (no `-pthread`, no shared memory).';
    case 'threads.declared-exceeds-platform':
      return `Set flight.cpu-threads to ${p.maxThreads} or less.`;
    case 'feature.unsupported':
      return `Build without that feature (e.g. no \`-msimd128\` for SIMD)${otherBundle ? `, or deploy the ${p.name} bundle instead` : ''}.`;
    case 'metadata.target-platform-mismatch':
      return otherBundle ? `Check and deploy the ${p.name} bundle instead.` : `Use the bundle built for ${p.name}.`;
    case 'metadata.memory-limit-exceeds-platform':
      return `Set flight.memory-limit to ${mib(p.budgetBytes)}MB or less.`;
    default:
      return undefined;
  }
}

/** The path prefix every module shares (`vita/wasm/`), dropped from the names shown. */
export function commonPrefix(paths: readonly string[]): string {
  if (paths.length < 2) return paths[0]?.includes('/') ? paths[0].slice(0, paths[0].lastIndexOf('/') + 1) : '';
  let prefix = paths[0]!.slice(0, paths[0]!.lastIndexOf('/') + 1);
  for (const p of paths) while (prefix && !p.startsWith(prefix)) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);
  return prefix;
}

/** A platform's findings by module (in the report's module order; findings about the whole target first). */
export function byModule(report: CheckReport, p: PlatformResult): Array<{ module: string | null; findings: Finding[] }> {
  const groups: Array<{ module: string | null; findings: Finding[] }> = [];
  const whole = p.findings.filter((f) => f.module === null);
  if (whole.length) groups.push({ module: null, findings: whole });
  const order = [...report.modules.map((m) => m.path), ...p.findings.flatMap((f) => (f.module ? [f.module] : []))];
  for (const module of [...new Set(order)]) {
    const findings = p.findings.filter((f) => f.module === module);
    groups.push({ module, findings });
  }
  return groups;
}
