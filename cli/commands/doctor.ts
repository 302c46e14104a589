import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import { ERROR_TABLE, type ErrorCode } from '../../core/errors.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import type { DoctorReport } from '../../core/api/contract.js';

/** `doctor --strict` with a missing capability: the exit status of a missing tool or capability. */
const MISSING_EXIT = ERROR_TABLE.TOOL_MISSING.exit;

export function registerDoctor(program: Command, out: () => Output): void {
  const cmd = program.command('doctor');
  registryFlagOptions(cmd);
  cmd
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
    .action(async (opts: { registry?: string[]; strict?: boolean } & RegistryFlagOpts) => {
      const o = out();
      applyRegistryFlags(opts, undefined);
      const report = await callApi('doctor.run', opts.registry ? { registries: opts.registry } : {});
      o.result(report, (r) => renderDoctor(r, o));
      // By default doctor reports, it does not fail (exit 0); --strict fails when a capability is missing.
      if (opts.strict && report.capabilities.some((c) => c.status === 'missing')) o.exitCode = MISSING_EXIT;
    });

  const test = program.command('test-connection');
  registryFlagOptions(test);
  test
    .description(
      'Test the connection to a registry step by step: settings and where they came from, DNS, proxy, TCP, TLS chain and CA, client certificate, /v2/ and its auth challenge (no credential is sent)',
    )
    .argument('<registry>', 'registry host[:port]')
    .option('--plain-http', 'talk plain HTTP to the registry (default for localhost)')
    .option('--no-plain-http', 'force HTTPS, even for localhost')
    .option('--insecure', 'do not verify the registry TLS certificate')
    .addHelpText(
      'after',
      '\nExit status 0 when every step passed, else the code of the first failed step.\n\nExamples:\n  $ flightdeck test-connection reg.lab.example --cert-dir ./certs',
    )
    .action(async (registry: string, opts: RegistryFlagOpts & { plainHttp?: boolean; insecure?: boolean }) => {
      const o = out();
      applyRegistryFlags(opts, registry.toLowerCase());
      const r = await callApi('registry.test', {
        registry,
        ...(opts.plainHttp === undefined ? {} : { plainHttp: opts.plainHttp }),
        ...(opts.insecure ? { insecure: true } : {}),
      });
      o.result(r, (v) =>
        [
          o.bold(`Connection to ${v.registry}`),
          ...v.steps.map(
            (s) =>
              `${s.status === 'ok' ? o.green('✔') : s.status === 'skip' ? o.dim('–') : o.red('✘')} ${s.step.padEnd(12)} ${s.detail}${s.code ? o.dim(` [${s.code}]`) : ''}`,
          ),
        ].join('\n'),
      );
      // The report is the output; the exit status is the first failed step's code (docs/errors.md).
      const failed = r.steps.find((s) => s.status === 'fail');
      if (failed) o.exitCode = ERROR_TABLE[(failed.code && failed.code in ERROR_TABLE ? failed.code : 'REGISTRY_UNREACHABLE') as ErrorCode].exit;
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
    if (reg.location) row('location', reg.location, 'location');
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
