import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import type { DoctorReport } from '../../core/api/contract.js';
import { ERROR_TABLE } from '../../core/errors.js';

/** `doctor --strict` with a missing capability: the exit status of a missing tool or capability. */
const MISSING_EXIT = ERROR_TABLE.TOOL_MISSING.exit;

export function registerDoctor(program: Command, out: () => Output): void {
  program
    .command('doctor')
    .description('Report which capabilities work on this machine (keychain, serial, USB, registries, Electron), with a fix for each missing one')
    .option('-r, --registry <host...>', 'also check that these registries answer')
    .option('--strict', `exit ${MISSING_EXIT} when any capability is missing (default: always 0)`)
    .addHelpText(
      'after',
      `
Examples:
  $ flightdeck doctor
  $ flightdeck doctor --registry localhost:5000 --json
  $ flightdeck doctor --strict        # in CI: fail when something is missing`,
    )
    .action(async (opts: { registry?: string[]; strict?: boolean }) => {
      const o = out();
      const report = await callApi('doctor.run', opts.registry ? { registries: opts.registry } : {});
      o.result(report, (r) => renderDoctor(r, o));
      // By default doctor reports, it does not fail (exit 0); --strict fails when a capability is missing.
      if (opts.strict && report.capabilities.some((c) => c.status === 'missing')) o.exitCode = MISSING_EXIT;
    });
}

export function renderDoctor(r: DoctorReport, o: Output): string {
  const mark = { ok: o.green('✔ ok     '), warn: o.yellow('! warn   '), missing: o.red('✘ missing') };
  const lines = [o.bold(`Flight Deck ${r.version} — doctor`), ''];
  for (const c of r.capabilities) {
    lines.push(`${mark[c.status]}  ${c.label.padEnd(24)} ${c.summary}`);
    if (c.status !== 'ok' && c.hint) lines.push(`${' '.repeat(11)}${' '.repeat(24)} ${o.dim(`fix${c.code ? ` [${c.code}]` : ''}: ${c.hint}`)}`);
  }
  lines.push('', o.dim(`config ${r.paths.config}`), o.dim(`data   ${r.paths.data}`), o.dim(`cache  ${r.paths.cache}`));
  return lines.join('\n');
}
