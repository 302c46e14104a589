import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import type { PlatformEntry } from '../../core/api/contract.js';
import { GATED_FEATURES } from '../../core/wasm/features.js';
import { formatBytes } from '../../core/units.js';

export function registerPlatforms(program: Command, out: () => Output): void {
  program
    .command('platforms')
    .description('List the platform profiles `check` knows: memory budget, threads and accepted WASM features')
    .addHelpText(
      'after',
      `
Built-in profiles ship with Flight Deck; add or override one with a JSON file in <config dir>/platforms/
(schema: assets/platforms/profile.schema.json, guide: docs/platforms.md).

Examples:
  $ flightdeck platforms
  $ flightdeck platforms --json | jq '.platforms[].profile.id'`,
    )
    .action(async () => {
      const o = out();
      const result = await callApi('platforms.list', {});
      o.result(result, (r) => renderPlatforms(r.platforms, o));
    });
}

export function renderPlatforms(platforms: PlatformEntry[], o: Output): string {
  const rows = platforms.map((e) => {
    const p = e.profile;
    const accepted = GATED_FEATURES.filter((f) => p.features[f]);
    return [
      p.id,
      p.name,
      formatBytes(p.memory.total, { exact: true }),
      formatBytes(e.budgetBytes, { exact: true }),
      String(p.threads.max),
      p.componentModel,
      accepted.length === GATED_FEATURES.length ? 'all' : accepted.join(', ') || 'none',
      e.source === 'builtin' ? '' : o.dim(`(${e.source})`),
    ];
  });
  const head = ['ID', 'NAME', 'MEMORY', 'BUDGET', 'THREADS', 'COMPONENTS', 'FEATURES', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 6 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  return [o.bold(line(head)), ...rows.map(line)].join('\n');
}
