import type { Command } from 'commander';
import { formatBytes, type Output } from '../output.js';
import { callApi } from '../api.js';
import type { ConformanceCheck, DeviceStateView } from '../../core/api/contract.js';
import { FlightDeckError } from '../../core/errors.js';
import { withInterrupt } from './signal.js';

export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new FlightDeckError('USAGE', `${name} ${JSON.stringify(value)} is not a positive whole number.`);
  return n;
}

/** Device log lines: payload stdout to stdout, the rest to stderr; JSON events under --json. */
export function printLog(o: Output, e: Record<string, unknown>): void {
  const text = String(e.text ?? '');
  if (o.opts.json) o.event({ event: 'log', stream: e.stream, text });
  else if (e.stream === 'stdout') o.passthrough('stdout', text);
  else o.passthrough('stderr', e.stream === 'device' ? o.dim(text) : text);
}

function renderState(s: DeviceStateView, o: Output): string[] {
  const slot = (name: 'A' | 'B') => {
    const c = s.slots[name];
    const mark = s.active === name ? o.green('active  ') : '        ';
    return `  slot ${name} ${mark} ${c ? `sha256:${c.sha256.slice(0, 16)}…  ${formatBytes(c.size)}` : o.dim('empty')}`;
  };
  const lines = [slot('A'), slot('B')];
  if (s.upload)
    lines.push(
      `  upload   sha256:${s.upload.sha256.slice(0, 16)}… into ${s.upload.slot}: ${formatBytes(s.upload.durable)} of ${formatBytes(s.upload.size)} durable`,
    );
  return lines;
}

export function registerDevice(program: Command, out: () => Output): void {
  const device = program.command('device').description('Ask one device for its status, or roll it back to its previous payload');
  device
    .command('status')
    .description('Platform, limits, slots, the active payload and any partial upload')
    .argument('<device>', 'device URI or name')
    .option('--timeout <ms>', 'how long to wait for the device')
    .action(async (ref: string, f: { timeout?: string }) => {
      const o = out();
      const timeoutMs = intOption('--timeout', f.timeout);
      const r = await callApi('device.status', { device: ref, ...(timeoutMs ? { timeoutMs } : {}) });
      o.result(r, (v) =>
        [
          o.bold(`${v.device}: ${v.info.platform}`) + o.dim(`  (${v.info.firmware}, protocol v${v.info.version})`),
          o.dim(
            `  memory ${formatBytes(v.info.memory)}, ${v.info.threads} thread(s), ${v.info.slots} slots, compression ${v.info.compression.join('/')}${v.info.lineRate ? `, ${v.info.lineRate} baud` : ''}`,
          ),
          ...renderState(v.state, o),
        ].join('\n'),
      );
    });
  device
    .command('rollback')
    .description('Make the previous payload (the inactive slot) active again')
    .argument('<device>', 'device URI or name')
    .option('--timeout <ms>', 'how long to wait for the device')
    .action(async (ref: string, f: { timeout?: string }) => {
      const o = out();
      const timeoutMs = intOption('--timeout', f.timeout);
      const r = await callApi('device.rollback', { device: ref, ...(timeoutMs ? { timeoutMs } : {}) });
      o.result(r, (v) => [`${o.green('✔')} rolled back ${v.device}: slot ${v.state.active} is active`, ...renderState(v.state, o)].join('\n'));
    });
  device
    .command('conformance')
    .description('Check a device against the Flight Deploy Protocol spec (docs/protocol.md): a scripted suite with a pass/fail table')
    .argument('<device>', 'device URI or name')
    .option('--timeout <ms>', 'reply timeout for each request (default 5000)')
    .option('--payload-size <bytes>', 'bytes of the larger test payload (default 96 KiB; smaller is faster on a slow serial line)')
    .addHelpText(
      'after',
      `
Runs the handshake, each message, resent requests (as after a lost reply), cuts at each phase, resume,
ROLLBACK retry, one host at a time and the device's limits. It flashes small test payloads (WASM modules
of a custom section) and leaves one of them active: run it on a bench kit, not a kit in use.
Exits 0 when every check passes, 1 otherwise. --json prints the report (one event per check on stderr).

Examples:
  $ flightdeck device conformance tcp://127.0.0.1:7000
  $ flightdeck device conformance serial:///dev/ttyUSB0?baud=921600 --payload-size 16384 --json`,
    )
    .action(async (ref: string, f: { timeout?: string; payloadSize?: string }) => {
      const o = out();
      const timeoutMs = intOption('--timeout', f.timeout);
      const payloadSize = intOption('--payload-size', f.payloadSize);
      const r = await withInterrupt((signal) =>
        callApi(
          'device.conformance',
          { device: ref, ...(timeoutMs ? { timeoutMs } : {}), ...(payloadSize ? { payloadSize } : {}) },
          {
            signal,
            emit: (e) => {
              if (e.type !== 'check') return;
              const c = e.check as ConformanceCheck;
              if (o.opts.json) o.event({ event: 'check', ...c });
              else o.passthrough('stderr', o.dim(`${c.ok ? 'pass' : 'FAIL'} ${c.id}\n`));
            },
          },
        ),
      );
      o.result(r, (v) => {
        const width = Math.max(...v.checks.map((c) => c.id.length));
        const rows = v.checks.map(
          (c) =>
            `  ${c.ok ? o.green('pass') : o.red('FAIL')}  ${c.id.padEnd(width)}  ${c.title}${c.detail ? `\n        ${' '.repeat(width)}  ${o.dim(c.detail)}` : ''}`,
        );
        const who = v.device ? `${v.device.platform} (${v.device.firmware})` : ref;
        return [o.bold(`Conformance of ${who}: ${v.passed} passed, ${v.failed} failed`), ...rows].join('\n');
      });
      if (r.failed > 0) o.exitCode = 1;
    });
  for (const cmd of device.commands) cmd.exitOverride().configureOutput(program.configureOutput());
}

export function registerMonitor(program: Command, out: () => Output): void {
  program
    .command('monitor')
    .description("Stream a device's log: its payload's stdout/stderr and device messages (Ctrl+C to stop)")
    .argument('<device>', 'device URI or name')
    .option('--no-follow', 'print the recent log and exit')
    .option('--save <file>', 'save the session (timestamped JSON lines, linked to the deploy receipt) when it ends')
    .addHelpText(
      'after',
      '\nExamples:\n  $ flightdeck monitor tcp://127.0.0.1:7000\n  $ flightdeck monitor dc-bench --no-follow --json\n  $ flightdeck monitor dc-bench --save bench.jsonl',
    )
    .action(async (ref: string, f: { follow: boolean; save?: string }) => {
      const o = out();
      const r = await withInterrupt((signal) =>
        callApi(
          'device.monitor',
          { device: ref, follow: f.follow, ...(f.save ? { save: f.save } : {}) },
          { signal, emit: (e) => e.type === 'log' && printLog(o, e) },
        ),
      );
      o.result(r, (v) => o.dim(`${v.lines} log line(s) from ${v.device}${v.saved ? `, saved to ${v.saved}` : ''}`));
    });
}
