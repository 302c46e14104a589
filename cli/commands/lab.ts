import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { renderBar, type Output } from '../output.js';
import { callApi } from '../api.js';
import { connectionOptions, setupCredentials, targetRegistry, type ConnOpts } from './oci.js';
import { withInterrupt } from './signal.js';
import { intOption } from './device.js';
import { ERROR_TABLE, isErrorCode } from '../../core/errors.js';
import type { LabDeployResult, LabLockResult, LabStatusResult, LabSyncResult } from '../../core/lab/schema.js';
import { LAB_FILE } from '../../core/lab/names.js';

interface LabOpts extends ConnOpts {
  lab?: string;
  offline?: boolean;
}

const short = (sha: string | null | undefined) => (sha ? sha.replace(/^sha256:/, '').slice(0, 12) : '-');

/** The lab file the command works on, absolute (the api resolves nothing against another folder). */
function labFile(opts: LabOpts): string {
  return path.resolve(opts.lab ?? LAB_FILE);
}

/**
 * The registry the lab's source names, read leniently (the api validates the file and reports its line):
 * credentials from flags and the env token go to that registry only.
 */
export function labRegistry(file: string): string | undefined {
  try {
    const source = (parse(readFileSync(file, 'utf8')) as { source?: unknown } | null)?.source;
    return typeof source === 'string' ? targetRegistry(source) : undefined;
  } catch {
    return undefined;
  }
}

async function connection(opts: LabOpts, file: string): Promise<{ plainHttp?: boolean; insecure?: boolean }> {
  return setupCredentials(opts, opts.offline ? undefined : labRegistry(file));
}

function exitOf(code: string | undefined): number {
  return code && isErrorCode(code) ? ERROR_TABLE[code].exit : 1;
}

export function registerLab(program: Command, out: () => Output): void {
  const lab = program
    .command('lab')
    .description('Lab files: pin what every kit should run (flightdeck.lab.yaml), lock it, sync it, flash it, and see drift')
    .addHelpText(
      'after',
      `
Examples:
  $ flightdeck lab lock                      resolve tags to digests: writes flightdeck.lab.lock
  $ flightdeck lab sync                      pull what the lock pins; run the checks and the signature policy
  $ flightdeck lab deploy                    flash every kit not running its locked payload
  $ flightdeck lab status --json             in sync / drifted / offline per kit (exit 7 drifted, 8 offline)
  $ flightdeck kit build --lab flightdeck.lab.yaml -o lab.tar && flightdeck kit import lab.tar
  $ flightdeck lab sync --offline            in the air-gapped room, from the imported kit

The lab file is flightdeck.lab.yaml in the current folder, or --lab FILE; see docs/lab.md.`,
    );
  const labOption = (c: Command) => c.option('--lab <file>', `the lab file (default ./${LAB_FILE})`);

  connectionOptions(
    labOption(lab.command('lock').description('Resolve every bundle tag to a digest, hash each device payload, and write the lock (deterministic)')).option(
      '--offline',
      'resolve from the content store only (an imported kit)',
    ),
  ).action(async (opts: LabOpts) => {
    const o = out();
    const file = labFile(opts);
    const conn = await connection(opts, file);
    const r = await withInterrupt((signal) => callApi('lab.lock', { lab: file, offline: Boolean(opts.offline), ...conn }, { signal }));
    o.result(r, (v) => renderLock(v, o));
  });

  connectionOptions(
    labOption(
      lab.command('sync').description('Pull everything the lock pins into the content store, then run the signature policy and the platform checks'),
    ).option('--offline', 'read from the content store only (an imported kit, e.g. from `kit build --lab`): no network call'),
  ).action(async (opts: LabOpts) => {
    const o = out();
    const file = labFile(opts);
    const conn = await connection(opts, file);
    const r = await withInterrupt((signal) => callApi('lab.sync', { lab: file, offline: Boolean(opts.offline), ...conn }, { signal }));
    o.result(r, (v) => renderSync(v, o));
    if (!r.ok) o.exitCode = exitOf(r.problems[0]?.code);
  });

  connectionOptions(
    labOption(
      lab
        .command('deploy')
        .description('Flash every device (or --device NAME) with its locked payload; devices already in sync are skipped')
        .option('-d, --device <name>', 'a device of the lab (repeat for several; default all)', (v: string, all: string[]) => [...all, v], [] as string[])
        .option('--force', 're-flash devices that already run their locked payload')
        .option('--offline', 'read payloads from the content store only (an imported kit)')
        .option('--concurrency <n>', 'devices flashed at once', '8')
        .option('--reconnect <seconds>', 'wait this long for a kit that went away mid-deploy to come back, then resume')
        .option('--timeout <ms>', 'how long to wait for each device reply'),
    ),
  ).action(async (opts: LabOpts & { device: string[]; force?: boolean; concurrency: string; reconnect?: string; timeout?: string }) => {
    const o = out();
    const file = labFile(opts);
    const conn = await connection(opts, file);
    const timeoutMs = intOption('--timeout', opts.timeout);
    const reconnect = intOption('--reconnect', opts.reconnect);
    const rows = new Map<string, { phase: string; done: number; total: number; status?: string }>();
    const live = o.live();
    const row = (d: string) => rows.get(d) ?? rows.set(d, { phase: 'waiting', done: 0, total: 0 }).get(d)!;
    const draw = () => {
      const width = Math.max(...[...rows.keys()].map((d) => d.length), 6);
      live.draw([...rows].map(([d, r]) => `${d.padEnd(width)}  ${r.status ?? renderBar(r.phase.padEnd(7), r.done, r.total || undefined, undefined, 60)}`));
    };
    const r = await withInterrupt((signal) =>
      callApi(
        'lab.deploy',
        {
          lab: file,
          ...(opts.device.length ? { devices: opts.device } : {}),
          force: Boolean(opts.force),
          offline: Boolean(opts.offline),
          concurrency: intOption('--concurrency', opts.concurrency)!,
          ...(reconnect ? { reconnect } : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
          ...conn,
        },
        {
          signal,
          emit: (e) => {
            const device = String(e.device);
            const x = row(device);
            if (e.type === 'skip') {
              x.status = o.dim('= in sync, skipped');
              o.event({ event: 'skip', device, sha256: e.sha256 });
            } else if (e.type === 'phase') {
              x.phase = String(e.phase);
              o.event({ event: 'phase', device, phase: e.phase });
            } else if (e.type === 'progress') {
              x.done = Number(e.done);
              x.total = Number(e.total);
              if (x.done >= x.total) o.event({ event: 'progress', device, done: x.done, total: x.total });
            } else if (e.type === 'log') {
              o.event({ event: 'log', device, stream: e.stream, text: e.text });
            } else if (e.type === 'result') {
              x.status = e.ok ? o.green('✔ done') : o.red(`✘ ${String(e.code)}`);
              o.event({ event: 'result', device, ok: e.ok, ...(e.code ? { code: e.code } : {}) });
            }
            draw();
          },
        },
      ),
    );
    live.done();
    o.result(r, (v) => renderDeploy(v, o));
    const first = r.results.find((x) => !x.ok)?.error?.code;
    if (first) o.exitCode = exitOf(first);
  });

  labOption(
    lab
      .command('status')
      .description("Ask every device for its active slot's hash: in sync, drifted (and what it runs), offline or unknown device")
      .option('-d, --device <name>', 'a device of the lab (repeat for several; default all)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--timeout <ms>', 'how long to wait for each device reply'),
  ).action(async (opts: LabOpts & { device: string[]; timeout?: string }) => {
    const o = out();
    const timeoutMs = intOption('--timeout', opts.timeout);
    const r = await withInterrupt((signal) =>
      callApi('lab.status', { lab: labFile(opts), ...(opts.device.length ? { devices: opts.device } : {}), ...(timeoutMs ? { timeoutMs } : {}) }, { signal }),
    );
    o.result(r, (v) => renderStatus(v, o));
    // Cron and CI read the exit code: drift first (7), then offline or unknown kits (8).
    if (r.counts.drifted) o.exitCode = ERROR_TABLE.LAB_DRIFT.exit;
    else if (r.counts.offline || r.counts['unknown-device']) o.exitCode = ERROR_TABLE.LAB_DEVICE_OFFLINE.exit;
  });
  for (const c of lab.commands) c.exitOverride().configureOutput(program.configureOutput());
}

function renderLock(r: LabLockResult, o: Output): string {
  const lines = [`${o.green('✔')} ${r.changed ? 'wrote' : 'unchanged'} ${r.lock}  ${r.lockDigest}`];
  for (const [platform, b] of Object.entries(r.content.bundles)) {
    const req = 'tag' in b.requested ? `tag ${b.requested.tag}` : 'pinned digest';
    lines.push(`  ${platform.padEnd(12)} ${b.digest}  (${req})`);
  }
  for (const m of r.moved) lines.push(o.yellow(`  moved: ${m.platform} ${m.from ?? '(new)'} -> ${m.to}`));
  return lines.join('\n');
}

function renderSync(r: LabSyncResult, o: Output): string {
  const lines = [`${r.ok ? o.green('✔ lab content in the store, checks pass') : o.red('✘ lab sync found problems')}  ${r.lock}`];
  for (const b of r.bundles) {
    const sig = b.signature?.verifiedBy.length ? `signed (${b.signature.verifiedBy.join(', ')})` : b.signature?.rule ? 'policy applied' : 'no policy rule';
    lines.push(`  ${b.platform.padEnd(12)} ${b.digest}  ${sig}`);
    for (const p of b.payloads) lines.push(`    ${p.fits ? o.green('✔') : o.red('✘')} ${p.file}  ${short(p.sha256)}`);
  }
  for (const p of r.problems) lines.push(`  ${o.red(`error[${p.code}]`)} ${p.message}`);
  return lines.join('\n');
}

function renderDeploy(r: LabDeployResult, o: Output): string {
  const lines: string[] = [];
  for (const name of r.skipped) lines.push(`${o.dim('=')} ${name}: in sync, skipped`);
  for (const x of r.results) {
    if (x.ok && x.result) {
      const d = x.result;
      lines.push(
        `${o.green('✔')} ${x.device}: ${d.outcome === 'already-active' ? 'already active' : `committed, slot ${d.slot}`} sha256:${short(d.sha256)}; receipt ${d.receipt?.id ?? '-'}`,
      );
    } else lines.push(`${o.red('✘')} ${x.device}: ${o.red(`error[${x.error?.code}]`)} ${x.error?.message}`);
  }
  lines.push(`${r.succeeded} flashed, ${r.skipped.length} already in sync, ${r.failed} failed  (lock ${short(r.lockDigest)})`);
  return lines.join('\n');
}

function renderStatus(r: LabStatusResult, o: Output): string {
  const label = { 'in-sync': o.green('in sync'), drifted: o.red('drifted'), offline: o.yellow('offline'), 'unknown-device': o.red('unknown device') };
  const w = Math.max(6, ...r.devices.map((d) => d.name.length));
  const pw = Math.max(8, ...r.devices.map((d) => d.platform.length));
  const lines = [o.dim(`${'DEVICE'.padEnd(w)}  ${'PLATFORM'.padEnd(pw)}  ${'STATE'.padEnd(14)}  ${'LOCKED'.padEnd(12)}  ACTUAL`)];
  for (const d of r.devices) {
    let actual: string;
    if (d.state === 'in-sync') actual = short(d.locked.sha256);
    else if (d.state === 'drifted') {
      const runs = d.runs;
      actual = !runs?.sha256
        ? 'nothing committed'
        : `${short(runs.sha256)}${runs.payload ? `  ${runs.payload}` : '  (no receipt: flashed by another tool?)'}${runs?.receipt ? o.dim(` receipt ${runs.receipt}, ${runs.operator}, ${runs.time}`) : ''}`;
    } else actual = o.dim(`${d.error?.code ?? ''}: ${d.error?.message ?? ''}`);
    const state = label[d.state] + ' '.repeat(Math.max(0, 14 - (d.state === 'in-sync' ? 7 : d.state === 'unknown-device' ? 14 : d.state.length)));
    lines.push(`${d.name.padEnd(w)}  ${d.platform.padEnd(pw)}  ${state}  ${short(d.locked.sha256).padEnd(12)}  ${actual}`);
  }
  const c = r.counts;
  lines.push(`${c['in-sync']} in sync, ${c.drifted} drifted, ${c.offline} offline, ${c['unknown-device']} unknown  (lock ${short(r.lockDigest)})`);
  return lines.join('\n');
}
