import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi, useCommandRegistry } from '../api.js';
import { targetRegistry } from './oci.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import type { InspectResult, WasmReport } from '../../core/api/contract.js';
import { formatBytes } from '../output.js';
import { CROSS_CHECK_OFF_NOTE } from '../../core/wasm/notes.js';

export function registerInspect(program: Command, out: () => Output): void {
  const cmd = program.command('inspect');
  registryFlagOptions(cmd);
  cmd
    .argument('<target>', 'a .wasm file, a directory, a .tar.gz bundle, or oci:<dir>[:tag]')
    .description('Inspect WASM modules and components: memories, tables, imports/exports, features used, threads, sections')
    .option('--engine-check', 'also validate each core module with the JS engine (V8 WebAssembly.validate); `check` and `deploy` always do')
    .addHelpText(
      'after',
      `
Features are found by decoding every instruction, not from the target_features section. The decoder
rejects malformed structure; it does not type-check function bodies. --engine-check adds V8's full
validation (a module V8 rejects then fails with WASM_MALFORMED), as \`check\` and \`deploy\` always do.

Examples:
  $ flightdeck inspect app.wasm
  $ flightdeck inspect bundle.tar.gz --json | jq '.modules[].report.features'
  $ flightdeck inspect oci:./layout:v1
  $ flightdeck inspect app.wasm --engine-check`,
    )
    .action(async (target: string, opts: RegistryFlagOpts & { engineCheck?: boolean }) => {
      const o = out();
      const progress = o.progress('inspect');
      useCommandRegistry(targetRegistry(target, true));
      applyRegistryFlags(opts, targetRegistry(target, true));
      const input = { target, ...(opts.engineCheck ? { engineCheck: true } : {}) };
      const result = await callApi('wasm.inspect', input, { emit: (e) => progress.update(Number(e.done), undefined, String(e.detail ?? '')) });
      progress.finish(`${result.modules.length} module(s)`);
      o.result(result, (r) => renderInspect(r, o));
    });
}

export function renderInspect(r: InspectResult, o: Output): string {
  const lines = [o.bold(`${r.target}`) + o.dim(` (${r.inputKind}, ${r.modules.length} module${r.modules.length === 1 ? '' : 's'})`)];
  for (const [k, v] of Object.entries(r.annotations)) lines.push(`  ${o.dim(k)} = ${v}`);
  for (const m of r.modules) {
    lines.push('', `${o.bold(m.path)}  ${o.dim(m.sha256)}`);
    renderReport(m.report, o, '  ', lines);
  }
  return lines.join('\n');
}

function limit(pages: number | null, bytes: number | null): string {
  return pages === null || bytes === null ? 'none' : `${pages} (${formatBytes(bytes)})`;
}

function renderReport(rep: WasmReport, o: Output, pad: string, lines: string[]): void {
  lines.push(`${pad}${rep.kind}, ${formatBytes(rep.size)}${rep.kind === 'component' ? ' (component model, layer 1)' : ''}`);
  for (const m of rep.memories) {
    const flags = [
      m.imported ? 'imported' : '',
      m.shared ? 'shared' : '',
      m.memory64 ? 'memory64' : '',
      m.pageSize !== 65536 ? `page ${m.pageSize} B` : '',
    ].filter(Boolean);
    lines.push(
      `${pad}memory[${m.index}]  initial ${limit(m.initial, m.initialBytes)}  max ${limit(m.maximum, m.maximumBytes)}${flags.length ? `  ${flags.join(', ')}` : ''}`,
    );
  }
  if (rep.kind === 'module') {
    lines.push(
      `${pad}functions ${rep.functions.defined} (+${rep.functions.imported} imported)  tables ${rep.tables.length}  globals ${rep.globals.length}  imports ${rep.imports.length}  exports ${rep.exports.length}${rep.start === null ? '' : `  start func ${rep.start}`}`,
    );
    lines.push(
      `${pad}code ${formatBytes(rep.codeBytes)} (${rep.instructions} instructions)  data ${formatBytes(rep.data.bytes)} in ${rep.data.segments} segment(s)${rep.data.passive ? `, ${rep.data.passive} passive` : ''}`,
    );
  } else if (rep.component) {
    const c = rep.component;
    lines.push(
      `${pad}core modules ${c.coreModules}  components ${c.components}  core instances ${c.coreInstances}  instances ${c.instances}  canon ${c.canons}  imports ${rep.imports.length}  exports ${rep.exports.length}`,
    );
    const ops = new Map<string, number>();
    for (const d of c.canonDefs) ops.set(d.op, (ops.get(d.op) ?? 0) + 1);
    if (ops.size) lines.push(`${pad}canon: ${[...ops].map(([op, n]) => `${op} ×${n}`).join(', ')}`);
    if (c.advancedCanon.length) lines.push(`${pad}advanced canon built-ins: ${c.advancedCanon.join(', ')}`);
  }
  lines.push(`${pad}features: ${rep.features.length ? rep.features.join(', ') : 'none beyond WebAssembly 1.0'}`);
  if (rep.targetFeatures.length) lines.push(`${pad}target_features (declared): ${rep.targetFeatures.map((f) => f.prefix + f.name).join(' ')}`);
  const t = rep.threads;
  lines.push(`${pad}threads: ${t.uses ? o.yellow([t.sharedMemory ? 'shared memory' : '', ...t.spawn].filter(Boolean).join(', ')) : 'none'}`);
  lines.push(`${pad}sections: ${rep.sections.map((s) => `${s.id === 0 ? 'custom' : s.name} ${s.size}`).join(', ')}`);
  if (rep.customSections.length) lines.push(`${pad}custom: ${rep.customSections.map((s) => `${s.name} (${formatBytes(s.size)})`).join(', ')}`);
  if (rep.producers) {
    for (const [field, values] of Object.entries(rep.producers)) lines.push(`${pad}${field}: ${values.map((v) => `${v.name} ${v.version}`.trim()).join(', ')}`);
  }
  if (rep.kind === 'module') {
    const v = rep.validation;
    const skipped = v.note === CROSS_CHECK_OFF_NOTE ? 'not run (--engine-check runs it)' : `skipped: ${v.note ?? ''}`;
    lines.push(`${pad}engine cross-check: ${v.checked ? (v.valid ? o.green(`valid (${v.engine})`) : o.red('invalid')) : o.dim(skipped)}`);
  }
  for (const note of rep.notes) lines.push(`${pad}${o.yellow('note')}: ${note}`);
  for (const n of rep.nested) {
    lines.push(`${pad}${o.bold(n.path)}`);
    renderReport(n.report, o, pad + '  ', lines);
  }
}
