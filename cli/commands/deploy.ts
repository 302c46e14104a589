import type { Command } from 'commander';
import { formatBytes, renderBar, type Output } from '../output.js';
import { callApi, useCommandRegistry } from '../api.js';
import { targetRegistry } from './oci.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import type { DeployResultView, FleetResult, Receipt } from '../../core/api/contract.js';
import { ERROR_TABLE, FlightDeckError, isErrorCode } from '../../core/errors.js';
import { receiptModule, receiptReference } from '../../core/deploy/receipt-names.js';
import { withInterrupt } from './signal.js';
import { intOption, printLog } from './device.js';

interface DeployFlags extends RegistryFlagOpts {
  device: string[];
  allMatching?: string;
  concurrency: string;
  delta: boolean;
  reconnect?: string;
  platform?: string;
  module?: string;
  run?: boolean;
  resume: boolean;
  force?: boolean;
  offline?: boolean;
  compression: string;
  lineRate?: string;
  timeout?: string;
}

export function registerDeploy(program: Command, out: () => Output): void {
  const cmd = program.command('deploy');
  registryFlagOptions(cmd);
  cmd
    .description('Check a WASM payload against the device, upload it (resuming), verify, commit and optionally run it')
    .argument('<payload>', 'a .wasm module, a platform bundle (.tar.gz), or a registry / oci: reference')
    .option(
      '-d, --device <uri|name>',
      'serial:///dev/ttyUSB0?baud=921600, usb://VID:PID[/SERIAL], tcp://host:port, or a name from `flightdeck devices`; repeat for many',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--all-matching <platform>', 'deploy to every known device of this platform (configured with it, or a running emulator)')
    .option('--concurrency <n>', 'devices flashed at once when there are many', '8')
    .option('--no-delta', 'always send the whole payload (no fast reflash of the differing blocks)')
    .option('--reconnect <seconds>', 'wait this long for a kit that went away mid-deploy to come back (same serial number), then resume')
    .option('-p, --platform <id>', 'platform the payload is for; refused when the device reports another')
    .option('-m, --module <name>', 'module of a bundle to deploy (default: the first it lists)')
    .option('--run', 'start the payload after the commit and stream its output')
    .option('--no-resume', 'start the upload over instead of continuing a partial one')
    .option('--force', 'send even when the payload check fails (the device still enforces its limits)')
    .option('--offline', 'resolve a reference from the content store only (an imported kit): no network call')
    .option('--compression <c>', 'auto, none, deflate or br', 'auto')
    .option('--line-rate <baud>', 'serial: switch to this line rate after the handshake (falls back if it fails)')
    .option('--timeout <ms>', 'how long to wait for each device reply')
    .addHelpText(
      'after',
      `
Examples:
  $ flightdeck deploy app.wasm --device serial:///dev/ttyUSB0?baud=115200 --line-rate 921600
  $ flightdeck deploy flight-dreamcast.tar.gz --device dc-bench --run
  $ flightdeck deploy app.wasm --device tcp://127.0.0.1:7000 --json
  $ flightdeck deploy app.wasm --device dc-1 --device tcp://10.0.0.7:7000 --concurrency 4
  $ flightdeck deploy flight/shared-types/bundles/vita:latest --all-matching vita

Every deploy writes a receipt to the data dir (see \`flightdeck receipts\`). With many devices the exit
code is non-zero when any of them failed (the code of the first failure).`,
    )
    .action(async (payload: string, f: DeployFlags) => {
      useCommandRegistry(targetRegistry(payload, true));
      applyRegistryFlags(f, targetRegistry(payload, true));
      const o = out();
      const compression = f.compression;
      if (!['auto', 'none', 'deflate', 'br'].includes(compression)) {
        throw new FlightDeckError('USAGE', `--compression ${JSON.stringify(compression)} is not one of auto, none, deflate, br.`);
      }
      const lineRate = intOption('--line-rate', f.lineRate);
      const timeoutMs = intOption('--timeout', f.timeout);
      const reconnect = intOption('--reconnect', f.reconnect);
      const common = {
        ...(reconnect ? { reconnect } : {}),
        payload,
        ...(f.offline ? { offline: true } : {}),
        ...(f.platform ? { platform: f.platform } : {}),
        ...(f.module ? { module: f.module } : {}),
        run: Boolean(f.run),
        resume: f.resume,
        force: Boolean(f.force),
        delta: f.delta,
        compression: compression as 'auto',
        ...(lineRate ? { lineRate } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
      };
      if (f.device.length === 0 && !f.allMatching) {
        throw new FlightDeckError('USAGE', 'deploy needs --device URI (repeatable) or --all-matching PLATFORM.');
      }
      if (f.device.length > 1 || f.allMatching) {
        const concurrency = intOption('--concurrency', f.concurrency)!;
        return deployFleet(o, { ...common, devices: f.device, ...(f.allMatching ? { allMatching: f.allMatching } : {}), concurrency });
      }
      const bar = o.progress('upload');
      const started = Date.now();
      const result = await withInterrupt((signal) =>
        callApi(
          'deploy.run',
          { ...common, device: f.device[0]! },
          {
            signal,
            emit: (e) => {
              if (e.type === 'phase') {
                if (e.phase === 'verify') bar.finish();
                o.debug(`phase ${String(e.phase)}`);
                o.event({ event: 'phase', phase: e.phase });
              } else if (e.type === 'progress') {
                const done = Number(e.done);
                const total = Number(e.total);
                const seconds = (Date.now() - started) / 1000;
                const rate = (done - Number(e.resumedFrom)) / Math.max(seconds, 0.001);
                const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
                bar.update(done, total, `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${eta}s retries ${String(e.retries)}`);
              } else if (e.type === 'log') {
                printLog(o, e);
              }
            },
          },
        ),
      );
      for (const finding of result.findings) o.warn(`forced past the check: [${finding.rule}] ${finding.message}`);
      o.result(result, (r) => renderDeploy(r, o));
    });
}

export function renderDeploy(r: DeployResultView, o: Output): string {
  const head =
    r.outcome === 'already-active'
      ? `${o.green('✔')} ${r.payload} is already the active payload on ${r.device} (slot ${r.slot})`
      : `${o.green('✔')} committed ${r.payload} to ${r.device}: slot ${r.slot} is active`;
  const lines = [head, o.dim(`  sha256:${r.sha256}  ${formatBytes(r.size)}  platform ${r.platform}`)];
  if (r.outcome === 'committed') {
    const resumed = r.resumedFrom > 0 ? `, resumed from ${formatBytes(r.resumedFrom)}` : '';
    const line = r.lineRate ? `, ${r.lineRate} baud` : '';
    lines.push(o.dim(`  ${formatBytes(r.wireBytes)} on the wire (${r.compression}${line})${resumed}, ${r.retries} retries, ${r.seconds.toFixed(2)} s`));
  }
  if (r.exitCode !== undefined) lines.push(`  payload exited with code ${r.exitCode}`);
  if (r.receipt) lines.push(...renderReceipt(r.receipt, o).map((l) => `  ${l}`), o.dim(`  ${r.receiptFile}`));
  return lines.join('\n');
}

/** The chain of a receipt: source → payload → what the device reported → device → who and when. */
export function renderReceipt(r: Receipt, o: Output): string[] {
  const mark = r.reported.matches ? o.green('matches') : o.red('DOES NOT MATCH');
  const reference = receiptReference(r);
  return [
    `receipt ${r.id}  ${r.time}  ${r.operator}, flightdeck ${r.tool.version}`,
    `  ${o.bold(receiptModule(r))} on ${r.device.name ?? r.device.uri} slot ${r.reported.slot ?? '-'}${reference ? ` from ${reference}` : ' from a local file'}`,
    `  payload ${r.payload.name} sha256:${r.payload.sha256}`,
    `  device  ${r.device.platform} ${r.device.serial ?? '(no serial)'} ${r.device.uri}${r.device.name ? ` (${r.device.name})` : ''}, ${r.device.firmware}`,
    `  device reports slot ${r.reported.slot ?? '-'} sha256:${r.reported.sha256 ?? '(not reported)'}: ${mark}`,
    ...(r.session ? [`  session ${r.session}`] : []),
    ...(r.lab ? [`  lab     ${r.lab.file} (device ${r.lab.device}, lock ${r.lab.lockDigest})`] : []),
  ];
}

interface Row {
  phase: string;
  done: number;
  total: number;
  status?: string;
}

/** Many devices: a live table on a TTY, JSON events tagged by device, a summary, non-zero exit on any failure. */
async function deployFleet(o: Output, input: Parameters<typeof callApi<'deploy.fleet'>>[1]): Promise<void> {
  const rows = new Map<string, Row>();
  const live = o.live();
  const lastEvent = new Map<string, number>();
  const row = (device: string) => rows.get(device) ?? rows.set(device, { phase: 'waiting', done: 0, total: 0 }).get(device)!;
  const draw = () => {
    const width = Math.max(...[...rows.keys()].map((d) => d.length), 6);
    live.draw(
      [...rows].map(([device, r]) => `${device.padEnd(width)}  ${r.status ?? renderBar(r.phase.padEnd(7), r.done, r.total || undefined, undefined, 60)}`),
    );
  };
  const result: FleetResult = await withInterrupt((signal) =>
    callApi('deploy.fleet', input, {
      signal,
      emit: (e) => {
        const device = String(e.device);
        const r = row(device);
        if (e.type === 'phase') {
          r.phase = String(e.phase);
          o.event({ event: 'phase', device, phase: e.phase });
        } else if (e.type === 'progress') {
          r.done = Number(e.done);
          r.total = Number(e.total);
          const now = Date.now();
          if (now - (lastEvent.get(device) ?? 0) >= 100 || r.done >= r.total) {
            lastEvent.set(device, now);
            o.event({ event: 'progress', device, done: r.done, total: r.total, retries: e.retries, wireBytes: e.wireBytes });
          }
        } else if (e.type === 'log') {
          o.event({ event: 'log', device, stream: e.stream, text: e.text });
        } else if (e.type === 'result') {
          r.status = e.ok ? o.green('✔ done') : o.red(`✘ ${String(e.code)}`);
          o.event({ event: 'result', device, ok: e.ok, ...(e.code ? { code: e.code } : {}) });
        }
        draw();
      },
    }),
  );
  live.done();
  o.result(result, (v) => renderFleet(v, o));
  const firstFailure = result.results.find((r) => !r.ok)?.error?.code;
  if (firstFailure) o.exitCode = isErrorCode(firstFailure) ? ERROR_TABLE[firstFailure].exit : 1;
}

function renderFleet(v: FleetResult, o: Output): string {
  const lines = [o.bold(`${v.payload}  sha256:${v.sha256}`)];
  for (const r of v.results) {
    if (r.ok && r.result) {
      const d = r.result;
      const how = d.outcome === 'already-active' ? 'already active' : `committed, slot ${d.slot}, ${d.transfer}, ${formatBytes(d.wireBytes)} on the wire`;
      const rep = d.receipt?.reported;
      lines.push(`${o.green('✔')} ${r.device}: ${how}, ${d.seconds.toFixed(2)} s`);
      if (rep) lines.push(o.dim(`    device reports sha256:${rep.sha256 ?? '(none)'} ${rep.matches ? 'matches' : 'DOES NOT MATCH'}; receipt ${d.receipt!.id}`));
    } else {
      lines.push(`${o.red('✘')} ${r.device}: ${o.red(`error[${r.error?.code}]`)} ${r.error?.message}`);
    }
  }
  lines.push(`${v.succeeded} succeeded, ${v.failed} failed`);
  return lines.join('\n');
}
