import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import type { DoctorReport } from '../../core/api/contract.js';

export function registerDoctor(program: Command, out: () => Output): void {
  program
    .command('doctor')
    .description('Report which capabilities work on this machine (keychain, serial, USB, registries, Electron), with a fix for each missing one')
    .option('-r, --registry <host...>', 'also check that these registries answer')
    .addHelpText(
      'after',
      `
Examples:
  $ flightdeck doctor
  $ flightdeck doctor --registry localhost:5000 --json`,
    )
    .action(async (opts: { registry?: string[] }) => {
      const o = out();
      const report = await callApi('doctor.run', opts.registry ? { registries: opts.registry } : {});
      o.result(report, (r) => renderDoctor(r, o));
      // Exit 0 even with missing capabilities: doctor reports, it does not fail. `--json` lets CI decide.
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
