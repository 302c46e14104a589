import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import type { DevicesReport } from '../../core/api/contract.js';
import { withInterrupt } from './signal.js';

export function registerDevices(program: Command, out: () => Output): void {
  program
    .command('devices')
    .description('List serial ports, USB devices, configured devices and running emulators; known dev-kit adapters are marked')
    .option('--watch', 'keep listing as devices come and go (Ctrl+C to stop)')
    .addHelpText(
      'after',
      '\nConfigured devices live in <config>/devices.json: {"devices": [{"name", "uri", "platform"}]}.\n\nExamples:\n  $ flightdeck devices\n  $ flightdeck devices --json | jq \'.devices[] | select(.adapter)\'',
    )
    .action(async (f: { watch?: boolean }) => {
      const o = out();
      const report = await callApi('devices.list', {});
      o.result(report, (r) => renderDevices(r, o));
      if (!f.watch) return;
      let last = JSON.stringify(report.devices);
      await withInterrupt(async (signal) => {
        while (!signal.aborted) {
          await new Promise((r) => setTimeout(r, 1000));
          const next = await callApi('devices.list', {});
          const key = JSON.stringify(next.devices);
          if (key === last) continue;
          last = key;
          if (o.opts.json) o.event({ event: 'devices', devices: next.devices });
          else o.info(`\n${renderDevices(next, o)}`);
        }
      });
    });
}

export function renderDevices(r: DevicesReport, o: Output): string {
  const lines: string[] = [];
  if (r.devices.length === 0) lines.push(o.dim('No devices found.'));
  for (const d of r.devices) {
    const ids = d.vendorId ? ` ${d.vendorId}:${d.productId}` : '';
    const extra = [d.name, d.platform, d.manufacturer, d.serialNumber].filter(Boolean).join(', ');
    lines.push(`${d.kind.padEnd(10)} ${d.uri}${ids}${extra ? o.dim(`  ${extra}`) : ''}${d.adapter ? `  ${o.green(`dev-kit adapter: ${d.adapter}`)}` : ''}`);
  }
  for (const u of r.unavailable) lines.push(o.yellow(`${u.source}: ${u.code} ${u.message}`), o.dim(`  fix: ${u.hint}`));
  return lines.join('\n');
}
