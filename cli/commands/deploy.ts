import type { Command } from 'commander';
import { formatBytes, type Output } from '../output.js';
import { callApi } from '../api.js';
import type { DeployResultView } from '../../core/api/contract.js';
import { FlightDeckError } from '../../core/errors.js';
import { withInterrupt } from './signal.js';
import { intOption, printLog } from './device.js';

interface DeployFlags {
  device: string;
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
  program
    .command('deploy')
    .description('Check a WASM payload against the device, upload it (resuming), verify, commit and optionally run it')
    .argument('<payload>', 'a .wasm module, a platform bundle (.tar.gz), or a registry / oci: reference')
    .requiredOption('-d, --device <uri|name>', 'serial:///dev/ttyUSB0?baud=921600, usb://VID:PID[/SERIAL], tcp://host:port, or a name from `flightdeck devices`')
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
  $ flightdeck deploy app.wasm --device tcp://127.0.0.1:7000 --json`,
    )
    .action(async (payload: string, f: DeployFlags) => {
      const o = out();
      const compression = f.compression;
      if (!['auto', 'none', 'deflate', 'br'].includes(compression)) {
        throw new FlightDeckError('USAGE', `--compression ${JSON.stringify(compression)} is not one of auto, none, deflate, br.`);
      }
      const lineRate = intOption('--line-rate', f.lineRate);
      const timeoutMs = intOption('--timeout', f.timeout);
      const bar = o.progress('upload');
      const started = Date.now();
      const result = await withInterrupt((signal) =>
        callApi(
          'deploy.run',
          {
            payload,
            ...(f.offline ? { offline: true } : {}),
            device: f.device,
            ...(f.platform ? { platform: f.platform } : {}),
            ...(f.module ? { module: f.module } : {}),
            run: Boolean(f.run),
            resume: f.resume,
            force: Boolean(f.force),
            compression: compression as 'auto',
            ...(lineRate ? { lineRate } : {}),
            ...(timeoutMs ? { timeoutMs } : {}),
          },
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
  return lines.join('\n');
}
