import { Option, type Command } from 'commander';
import type { Output } from '../output.js';
import { callApi, useCommandRegistry } from '../api.js';
import { targetRegistry } from './oci.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import type { CheckReport } from '../../core/api/contract.js';
import { FlightDeckError } from '../../core/errors.js';
import { formatBytes } from '../../core/units.js';
import { toJUnit, toSarif } from '../../core/platforms/formats.js';
import { writeFileAtomic } from '../../core/fs/atomic.js';

type Format = 'text' | 'json' | 'sarif' | 'junit';

/** `check` speaks the exit codes CI expects: 0 fits, 1 a rule failed, 2 bad input or usage (130 cancelled). */
export const CHECK_EXIT = { fits: 0, failed: 1, bad: 2, aborted: 130 } as const;

export function registerCheck(program: Command, out: () => Output): void {
  const cmd = program.command('check');
  registryFlagOptions(cmd);
  cmd
    .argument('<target>', 'a .wasm file, a directory, a .tar.gz bundle, or oci:<dir>[:tag]')
    .description('Check that every module of a target fits platforms: memory budget, threads, WASM features, bundle annotations')
    .requiredOption(
      '-p, --platform <id>',
      'platform to check against (repeat for several; see `flightdeck platforms`)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .addOption(new Option('-f, --format <format>', 'report format').choices(['text', 'json', 'sarif', 'junit']).default('text'))
    .option('-o, --output <file>', 'write the report to FILE (atomically) instead of stdout')
    .option('--offline', 'registry references come only from the content store (an imported kit): no network call')
    .addHelpText(
      'after',
      `
Exit status: 0 every module fits every platform, 1 a rule failed (an error finding),
2 bad input or usage (unreadable or malformed target, unknown platform), 130 cancelled.
Warnings do not fail the check. --json prints the JSON report (schema docs/schemas/check-report.v1.json).

Examples:
  $ flightdeck check app.wasm --platform dreamcast
  $ flightdeck check bundle.tar.gz -p vita -p v6r-small --format sarif --output check.sarif
  $ flightdeck check oci:./layout:v1 -p dreamcast --format junit > junit.xml`,
    )
    .action(async (target: string, opts: { platform: string[]; format: Format; output?: string; offline?: boolean } & RegistryFlagOpts) => {
      const o = out();
      try {
        if (o.opts.json && !opts.output && (opts.format === 'sarif' || opts.format === 'junit')) {
          throw new FlightDeckError('USAGE', `--json prints the JSON report; write ${opts.format} with --output FILE.`);
        }
        const progress = o.progress('check');
        useCommandRegistry(targetRegistry(target, true));
        applyRegistryFlags(opts, targetRegistry(target, true));
        const report = await callApi(
          'wasm.check',
          { target, platforms: opts.platform, ...(opts.offline ? { offline: true } : {}) },
          { emit: (e) => progress.update(Number(e.done), undefined, String(e.detail ?? '')) },
        );
        progress.finish(`${report.modules.length} module(s)`);
        const doc = render(report, opts.format, Boolean(opts.output));
        if (opts.output) {
          await writeFileAtomic(opts.output, doc).catch((err: unknown) => {
            throw new FlightDeckError('IO_ERROR', `Cannot write ${opts.output}: ${(err as Error).message}`, { cause: err, details: { file: opts.output } });
          });
          o.result(report, (r) => renderText(r, o) + `\n${o.dim(`report written to ${opts.output}`)}`);
        } else if (opts.format === 'text') {
          o.result(report, (r) => renderText(r, o));
        } else {
          o.document(doc);
        }
        o.exitCode = report.summary.fits ? CHECK_EXIT.fits : CHECK_EXIT.failed;
      } catch (err) {
        o.exitCode = o.error(err) === CHECK_EXIT.aborted ? CHECK_EXIT.aborted : CHECK_EXIT.bad;
      }
    });
}

function render(report: CheckReport, format: Format, toFile: boolean): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'sarif':
      return JSON.stringify(toSarif(report), null, 2) + '\n';
    case 'junit':
      return toJUnit(report);
    case 'text':
      return toFile ? renderText(report, PLAIN) + '\n' : '';
  }
}

type Paint = Pick<Output, 'bold' | 'dim' | 'red' | 'green' | 'yellow'>;
const id = (s: string) => s;
const PLAIN: Paint = { bold: id, dim: id, red: id, green: id, yellow: id };

/** `[#######---]` of `used` against `budget`; a full red bar with `!` when it does not fit. */
export function memoryBar(used: number, budget: number, width = 30): string {
  const ratio = budget > 0 ? used / budget : Infinity;
  const filled = Math.min(width, Math.round(Math.min(ratio, 1) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${ratio > 1 ? '!' : ' '}`;
}

export function renderText(r: CheckReport, o: Paint): string {
  const lines = [o.bold(`check ${r.target}`) + o.dim(` (${r.inputKind}, ${r.modules.length} module${r.modules.length === 1 ? '' : 's'})`)];
  const name = Math.max(...r.modules.map((m) => m.path.length), 8);
  const mark = { error: o.red('✘'), warning: o.yellow('!'), note: o.dim('i') };
  for (const p of r.platforms) {
    const verdict = p.fits ? o.green('✔ fits') : o.red(`✘ does not fit (${p.findings.filter((f) => f.severity === 'error').length} error(s))`);
    lines.push('', `${o.bold(p.id)}  ${p.name}  budget ${formatBytes(p.budgetBytes, { exact: true })}, ${p.maxThreads} thread(s)  ${verdict}`);
    for (const m of r.modules) {
      const used = m.memory.requiredBytes;
      const pct = p.budgetBytes > 0 ? Math.round((used / p.budgetBytes) * 100) : 0;
      const bar = memoryBar(used, p.budgetBytes);
      lines.push(
        `  ${m.path.padEnd(name)}  ${used > p.budgetBytes ? o.red(bar) : bar} ${String(pct).padStart(3)}%  ${formatBytes(used, { exact: true })} / ${formatBytes(p.budgetBytes, { exact: true })}`,
      );
    }
    for (const f of p.findings) lines.push(`  ${mark[f.severity]} ${o.dim(f.ruleId)}  ${f.message}`);
  }
  const s = r.summary;
  lines.push('', s.fits ? o.green(`fits: ${s.warnings} warning(s)`) : o.red(`does not fit: ${s.errors} error(s), ${s.warnings} warning(s)`));
  return lines.join('\n');
}
