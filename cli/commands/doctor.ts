import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import type { DoctorReport } from '../../core/api/contract.js';

export function registerDoctor(program: Command, out: () => Output): void {
  const cmd = program.command('doctor');
  registryFlagOptions(cmd);
  cmd
    .description('Report which capabilities work on this machine (keychain, serial, USB, registries, Electron), with a fix for each missing one')
    .option('-r, --registry <host...>', 'also check that these registries answer')
    .addHelpText(
      'after',
      `
Examples:
  $ flightdeck doctor
  $ flightdeck doctor --registry localhost:5000 --json`,
    )
    .action(async (opts: { registry?: string[] } & RegistryFlagOpts) => {
      const o = out();
      applyRegistryFlags(opts, undefined);
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
  for (const reg of r.registries ?? []) {
    lines.push('', o.bold(`Registry ${reg.host}`));
    const from = (key: string) => {
      const s = reg.sources[key];
      return s ? o.dim(`  (${s.origin}${s.from ? `: ${s.from}` : ''})`) : '';
    };
    const row = (label: string, value: string, key: string) => lines.push(`  ${label.padEnd(14)} ${value}${from(key)}`);
    if (reg.blocked) row('blocked', 'yes', 'blocked');
    row('scheme', reg.scheme, 'scheme');
    row('verify TLS', reg.insecure ? 'no (insecure)' : 'yes', 'insecure');
    row('CAs', reg.ca.length ? reg.ca.join(', ') : 'system store', 'ca');
    row('client cert', reg.clientCert ?? 'none', 'clientCert');
    row('proxy', reg.proxy, 'proxy');
    if (reg.headers.length) row('headers', reg.headers.join(', '), 'headers');
    if (reg.mirrors.length) row('mirrors', `${reg.mirrors.join(', ')} (pull-from-mirror ${reg.pullFromMirror})`, 'mirrors');
    for (const w of reg.warnings) lines.push(`  ${o.yellow('warning')}: ${w}`);
  }
  lines.push('', o.dim(`config ${r.paths.config}`), o.dim(`data   ${r.paths.data}`), o.dim(`cache  ${r.paths.cache}`));
  return lines.join('\n');
}
