import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import { renderReceipt } from './deploy.js';

export function registerReceipts(program: Command, out: () => Output): void {
  program
    .command('receipts')
    .description('Deploy receipts, newest first: registry digest → payload hash → what the device reported → device, time, operator')
    .option('-d, --device <uri|name|serial>', 'only the receipts of this device (its URI, name or serial number)')
    .addHelpText('after', '\nExamples:\n  $ flightdeck receipts\n  $ flightdeck receipts --device tcp://127.0.0.1:7000 --json')
    .action(async (f: { device?: string }) => {
      const o = out();
      const r = await callApi('receipts.list', f.device ? { device: f.device } : {});
      o.result(r, (v) =>
        v.receipts.length ? v.receipts.map((rc) => [...renderReceipt(rc, o), o.dim(`  ${rc.file}`)].join('\n')).join('\n\n') : o.dim('No deploy receipts yet.'),
      );
    });
}
