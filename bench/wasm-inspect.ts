/**
 * `npm run bench` (or `npx tsx bench/wasm-inspect.ts`): the inspector versus wabt on the largest real
 * binaries, in the same run, plus a 100,000-case fuzz run.
 *   parser      core/wasm parseWasm in-process on the file (fileSource: the read the CLI does), every
 *               instruction decoded (engine cross-check off, then on)
 *   cli         `flightdeck inspect --json` end to end (a new Node process: includes Node start-up; no V8
 *               cross-check, which `inspect` runs only with --engine-check)
 *   objdump -x  `wasm-objdump -x` (a new process; headers and details; it does not decode instructions)
 *   validate    `wasm-validate` (a new process; decodes and type-checks every instruction)
 * Then the same comparison with the start-up paid once: one `flightdeck inspect DIR` over N copies versus
 * one `wasm-objdump -x` over the same N files, plus inspectTarget(DIR) in-process (what that command does
 * after start-up: read, sha256, decode; and with the V8 cross-check). Times are medians of repeated runs, in ms.
 * First, the goal of issue 19: `flightdeck inspect --json BIG.wasm` end to end against `wasm-objdump -x
 * BIG.wasm` on a real module of ≥ 25 MB (Biome's 45.6 MB WebAssembly build, the devDependency
 * @biomejs/wasm-nodejs), alternating, median of BIG_RUNS (default 7); goal ≥ 1.5×. In the same rotation,
 * `inspect --json --engine-check BIG.wasm`, so the cost of the V8 cross-check stays in view.
 *   npx tsx bench/wasm-inspect.ts [--ignore-load]    (or `npm run bench -- wasm-inspect`)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseWasm } from '../core/wasm/parser.js';
import { bytesSource, fileSource } from '../core/wasm/reader.js';
import { inspectTarget } from '../core/wasm/target.js';
import { FlightDeckError } from '../core/errors.js';
import { BIN } from '../test/support/cli.js';
import { REAL_BINARIES, buildComponent, fixtureBytes, realComponent, type Fixture } from '../test/support/wasm.js';
import { mutate, rng } from '../test/support/fuzz.js';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 100_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

function timeSpawn(n: number, cmd: string, args: string[]): number {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
    xs.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return median(xs);
}

const fmt = (ms: number) => ms.toFixed(1);
console.log(`node ${process.version}, ${execFileSync('wasm-objdump', ['--version'], { encoding: 'utf8' }).trim()} (wabt), ${new Date().toISOString()}\n`);
await loadAtStart();

// Goal: a big real module, end to end, alternating.
const BIG = path.join(process.cwd(), 'node_modules/@biomejs/wasm-nodejs/biome_wasm_bg.wasm');
{
  const runs = Number(process.env.BIG_RUNS ?? 7);
  const cliTimes: number[] = [];
  const checkedCliTimes: number[] = [];
  const objdumpTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    cliTimes.push(timeSpawn(1, process.execPath, [BIN, 'inspect', '--json', BIG]));
    objdumpTimes.push(timeSpawn(1, 'wasm-objdump', ['-x', BIG]));
    checkedCliTimes.push(timeSpawn(1, process.execPath, [BIN, 'inspect', '--json', '--engine-check', BIG]));
  }
  const size = statSync(BIG).size;
  const decode = await timeAsync(3, () => parseWasm(fileSource(BIG), { name: BIG, size, crossCheck: false }));
  const checked = await timeAsync(3, () => parseWasm(fileSource(BIG), { name: BIG, size }));
  console.log(`big module: ${path.relative(process.cwd(), BIG)} (${size} bytes), ${runs} alternating runs, median ms`);
  console.log(
    `| flightdeck inspect --json | wasm-objdump -x | objdump / flightdeck (goal ≥ 1.5×) | inspect --json --engine-check | objdump / --engine-check | parser in-process (no cross-check) | parser + V8 cross-check |`,
  );
  console.log(`| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
  console.log(
    `| ${fmt(median(cliTimes))} | ${fmt(median(objdumpTimes))} | ${ratio(median(objdumpTimes) / median(cliTimes))} | ${fmt(median(checkedCliTimes))} | ${ratio(median(objdumpTimes) / median(checkedCliTimes))} | ${fmt(decode)} | ${fmt(checked)} |`,
  );
  console.log(
    `runs (ms): flightdeck ${cliTimes.map(fmt).join(' ')}; objdump ${objdumpTimes.map(fmt).join(' ')}; --engine-check ${checkedCliTimes.map(fmt).join(' ')}\n`,
  );
}

console.log(
  '| binary | size | parser (ms) | parser + V8 validate (ms) | cli inspect (ms) | wasm-objdump -x (ms) | wasm-validate (ms) | objdump / parser | validate / parser |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const file of [...REAL_BINARIES].sort((a, b) => statSync(b).size - statSync(a).size)) {
  const size = statSync(file).size;
  const parser = await timeAsync(40, () => parseWasm(fileSource(file), { name: file, size, crossCheck: false }));
  const checked = await timeAsync(20, () => parseWasm(fileSource(file), { name: file, size }));
  const cli = timeSpawn(5, process.execPath, [BIN, 'inspect', '--json', file]);
  const objdump = timeSpawn(20, 'wasm-objdump', ['-x', file]);
  const validate = timeSpawn(10, 'wasm-validate', [file]);
  console.log(
    `| ${path.relative(process.cwd(), file)} | ${size} | ${fmt(parser)} | ${fmt(checked)} | ${fmt(cli)} | ${fmt(objdump)} | ${fmt(validate)} | ${ratio(objdump / parser)} | ${ratio(validate / parser)} |`,
  );
}

// Process start-up: each tool on an empty module (8 bytes).
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-wasm-'));
const empty = path.join(tmp, 'empty.wasm');
writeFileSync(empty, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
console.log(
  `\nstart-up on an empty module: cli inspect ${fmt(timeSpawn(5, process.execPath, [BIN, 'inspect', '--json', empty]))} ms, wasm-objdump -x ${fmt(timeSpawn(20, 'wasm-objdump', ['-x', empty]))} ms, wasm-validate ${fmt(timeSpawn(20, 'wasm-validate', [empty]))} ms`,
);

// Start-up paid once: N copies of the largest binary in one directory, one process per tool.
const COPIES = Number(process.env.COPIES ?? 20);
const largest = [...REAL_BINARIES].sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
const dir = path.join(tmp, 'copies');
const copies = Array.from({ length: COPIES }, (_, i) => path.join(dir, `m${String(i).padStart(3, '0')}.wasm`));
execFileSync('mkdir', ['-p', dir]);
for (const c of copies) copyFileSync(largest, c);
const inDir = await timeAsync(5, () => inspectTarget(dir, { crossCheck: false }));
const inDirChecked = await timeAsync(5, () => inspectTarget(dir));
const cliDir = timeSpawn(5, process.execPath, [BIN, 'inspect', '--json', dir]);
const objdumpDir = timeSpawn(5, 'wasm-objdump', ['-x', ...copies]);
console.log(`\n${COPIES} copies of ${path.relative(process.cwd(), largest)} (${COPIES * statSync(largest).size} bytes), one process per tool:\n`);
console.log('| run | total (ms) | per file (ms) | wasm-objdump -x / run |');
console.log('| --- | ---: | ---: | ---: |');
for (const [label, ms] of [
  ['inspectTarget(DIR) in-process, cross-check off (read, sha256, decode: what `inspect` runs)', inDir],
  ['inspectTarget(DIR) in-process, V8 cross-check on (what `check` and `inspect --engine-check` run)', inDirChecked],
  ['`flightdeck inspect --json DIR` (one Node process)', cliDir],
  [`\`wasm-objdump -x\` over the ${COPIES} files (one process)`, objdumpDir],
] as const) {
  console.log(`| ${label} | ${fmt(ms)} | ${(ms / COPIES).toFixed(2)} | ${ratio(objdumpDir / ms)} |`);
}
rmSync(tmp, { recursive: true, force: true });

const names: Fixture[] = [
  'simd',
  'bulk-memory',
  'reference-types',
  'shared-memory',
  'exceptions',
  'target-features',
  'multi-memory',
  'tail-call',
  'wasi-threads',
];
const seeds = [
  ...names.map((n) => fixtureBytes(n)),
  buildComponent(fixtureBytes('simd')),
  (await realComponent()).bytes,
  readFileSync(REAL_BINARIES[0]!).subarray(0, 4096),
];
const random = rng(2026);
const seen = { ok: 0, malformed: 0 };
const t = performance.now();
for (let i = 0; i < FUZZ_CASES; i++) {
  try {
    await parseWasm(bytesSource(mutate(seeds[i % seeds.length]!, random)), { name: 'fuzz.wasm' });
    seen.ok++;
  } catch (err) {
    if (!(err instanceof FlightDeckError) || err.code !== 'WASM_MALFORMED') {
      console.error(`fuzz case ${i}: unexpected ${String(err)}`);
      process.exit(1);
    }
    seen.malformed++;
  }
}
console.log(
  `\nfuzz: ${FUZZ_CASES} mutated modules (seed 2026) in ${((performance.now() - t) / 1000).toFixed(1)} s: ${seen.ok} parsed, ${seen.malformed} WASM_MALFORMED, 0 other errors, 0 hangs`,
);
loadAtEnd();
