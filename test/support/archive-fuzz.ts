/**
 * Fuzz cases for the archive readers, shared by the unit test (a few thousand cases) and the bench
 * (bench/archive-fuzz.ts, 100,000+): mutated valid archives through
 *   tar      core/archive/tar.ts on a plain tar (every body read)
 *   gzip     the same through gunzipLimited (the tar mutated, then gzipped; or the gzip bytes mutated)
 *   unpack   `pull --unpack` (core/oci/extract.ts writeOutputs) into box/deep/out
 *   kit      the kit reader (core/kits/tar.ts extractKitTar) and then kit verify (verifyKitDir)
 * Properties: the only failures are TarFormatError (reader) or a FlightDeckError with an expected code;
 * nothing is written outside the target folder; after a refusal nothing is left at all; every link an
 * unpack leaves resolves inside its folder. A violated property throws `FuzzViolation`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { TarFormatError, gunzipLimited, tarEntries, DEFAULT_TAR_LIMITS, type TarLimits } from '../../core/archive/tar.js';
import { FlightDeckError } from '../../core/errors.js';
import { resolvePaths } from '../../core/config/paths.js';
import { extractKitTar, writeTar } from '../../core/kits/tar.js';
import { verifyKitDir } from '../../core/kits/verify.js';
import { writeOutputs } from '../../core/oci/extract.js';
import { MEDIA } from '../../core/oci/manifest.js';
import { OciLayout } from '../../core/oci/layout.js';
import { mutate } from './fuzz.js';
import { diamondKit } from './kit-graph.js';
import { tar } from './tar.js';

export class FuzzViolation extends Error {
  override readonly name = 'FuzzViolation';
}

/** Small limits so that mutated sizes hit the guards quickly (the guards are what is being tested). */
const LIMITS: TarLimits = { ...DEFAULT_TAR_LIMITS, maxUnpackedBytes: 8 * 1024 * 1024, ratioFloor: 1024 * 1024, maxEntries: 500, maxMetadataBytes: 64 * 1024 };

/** Recompute the checksum of every 512-aligned block that carries a ustar magic, so mutations reach past it. */
export function fixChecksums(b: Uint8Array): Uint8Array {
  const out = Buffer.from(b);
  for (let at = 0; at + 512 <= out.length; at += 512) {
    if (out.toString('latin1', at + 257, at + 262) !== 'ustar') continue;
    out.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += out[i]!;
    out.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 8, 'latin1');
  }
  return out;
}

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
  if (b.length === 0) yield b;
}

/** Seeds: GNU tar archives (pax, gnu, ustar formats; newline and long names, links) and hand-made ones. */
export function tarSeeds(): Buffer[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-fuzz-seeds-'));
  try {
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'a', 'b', 'x'.repeat(80)), { recursive: true });
    writeFileSync(path.join(src, 'new\nline'), 'one');
    writeFileSync(path.join(src, 'a', 'b', 'x'.repeat(80), `${'y'.repeat(90)}.txt`), 'two'.repeat(200));
    symlinkSync('../..', path.join(src, 'a', 'b', 'z'));
    symlinkSync('b/z/a', path.join(src, 'a', 'inside'));
    const seeds: Buffer[] = [];
    for (const format of ['pax', 'gnu', 'ustar']) {
      const file = path.join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', src, ...(format === 'ustar' ? ['a/b/z', 'a/inside', 'new\nline'] : ['.'])]);
      seeds.push(readFileSync(file));
    }
    seeds.push(
      tar([
        { name: 'PaxHeader', type: 'x', body: '18 path=p\nq\nr/s\n' },
        { name: 'plain', body: 'x'.repeat(700) },
        { name: 'a/b/z', type: '2', linkname: '../..' },
        { name: 'a/b/x', type: '2', linkname: 'z/../../..' },
        { name: 'dir/', type: '5' },
        { name: 'dir/f', body: 'f' },
      ]),
    );
    return seeds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seed kits: a diamond layout (nested indexes), written by the kit writer. */
export async function kitSeeds(): Promise<Buffer[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-fuzz-kit-'));
  try {
    const layout = path.join(dir, 'layout');
    diamondKit(layout, 2, 3);
    const entries = [
      { name: 'oci-layout', file: path.join(layout, 'oci-layout') },
      { name: 'index.json', file: path.join(layout, 'index.json') },
      ...readdirSync(path.join(layout, 'blobs', 'sha256')).map((h) => ({ name: `blobs/sha256/${h}`, file: path.join(layout, 'blobs', 'sha256', h) })),
    ].map((e) => ({ ...e, size: lstatSync(e.file).size }));
    await writeTar(path.join(dir, 'kit.tar'), entries, 0);
    return [readFileSync(path.join(dir, 'kit.tar'))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A mutated case: the byte mutations of test/support/fuzz.ts, checksums repaired for about half. */
export function mutateTar(seed: Uint8Array, random: () => number): Uint8Array {
  const m = mutate(seed, random);
  return random() < 0.5 ? fixChecksums(m) : m;
}

export type Outcome = 'ok' | 'refused';

function expectCoded(err: unknown, codes: readonly string[], what: string): Outcome {
  if (err instanceof FuzzViolation) throw err;
  if (err instanceof FlightDeckError && codes.includes(err.code)) return 'refused';
  throw new FuzzViolation(`${what}: unexpected ${err instanceof FlightDeckError ? err.code : ''} ${String(err)}`);
}

/** Read every entry and body; only TarFormatError may come out. */
export async function tarCase(bytes: Uint8Array, gzip: boolean, random: () => number): Promise<Outcome> {
  // Mostly ordinary read sizes, sometimes tiny ones (every boundary case of the buffering).
  const chunk = random() < 0.1 ? 1 + Math.floor(random() * 64) : 4096 + Math.floor(random() * 61440);
  try {
    const source = gzip ? gunzipLimited(chunks(bytes, chunk), LIMITS) : chunks(bytes, chunk);
    for await (const e of tarEntries(source, LIMITS)) {
      if (typeof e.path !== 'string' || !Number.isSafeInteger(e.size) || e.size < 0)
        throw new FuzzViolation(`bad entry ${JSON.stringify(e.path)} size ${e.size}`);
      let n = 0;
      for await (const c of e.body) n += c.length;
      if (n !== e.size) throw new FuzzViolation(`entry ${JSON.stringify(e.path)} gave ${n} bytes, size ${e.size}`);
    }
    return 'ok';
  } catch (err) {
    if (err instanceof TarFormatError && Number.isInteger(err.offset)) return 'refused';
    if (err instanceof FuzzViolation) throw err;
    throw new FuzzViolation(`tar reader: unexpected ${String(err)}`);
  }
}

/** Every path under `dir`, relative, recursively; links are listed, never followed (they may form loops). */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? path.join(rel, e.name) : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...tree(dir, p));
  }
  return out.sort();
}

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `pull --unpack` of a (mutated) tar+gzip layer into box/deep/out. */
export async function unpackCase(store: OciLayout, gz: Uint8Array, scratch: string): Promise<Outcome> {
  const box = mkdtempSync(path.join(scratch, 'u-'));
  try {
    mkdirSync(path.join(box, 'deep'));
    const out = path.join(box, 'deep', 'out');
    const digest = sha(gz);
    await store.putBytes(digest, Buffer.from(gz));
    const layer = { mediaType: MEDIA.tarGzip, digest, size: gz.length, annotations: { 'org.opencontainers.image.title': 'fuzz.tar.gz' } };
    let outcome: Outcome;
    try {
      await writeOutputs(store, [layer], out, { unpack: true });
      outcome = 'ok';
    } catch (err) {
      outcome = expectCoded(err, ['UNSAFE_PATH', 'INVALID_INPUT'], 'unpack');
    }
    const all = tree(box);
    if (outcome === 'refused') {
      if (JSON.stringify(all) !== '["deep"]') throw new FuzzViolation(`unpack refused but left ${JSON.stringify(all.slice(0, 5))}`);
    } else {
      const stray = all.filter(
        (p) =>
          p !== 'deep' &&
          p !== path.join('deep', 'out') &&
          p !== path.join('deep', 'out', 'fuzz') &&
          !p.startsWith(path.join('deep', 'out', 'fuzz') + path.sep),
      );
      if (stray.length) throw new FuzzViolation(`unpack wrote outside its folder: ${JSON.stringify(stray.slice(0, 5))}`);
      const root = realpathSync(path.join(out, 'fuzz'));
      for (const p of all.filter((q) => q.startsWith(path.join('deep', 'out', 'fuzz') + path.sep))) {
        const full = path.join(box, p);
        if (!lstatSync(full).isSymbolicLink()) continue;
        let real: string;
        try {
          real = realpathSync(full);
        } catch {
          continue; // dangling: leads nowhere
        }
        if (real !== root && !real.startsWith(root + path.sep)) throw new FuzzViolation(`unpack left a link ${p} leading to ${real}`);
      }
    }
    return outcome;
  } finally {
    rmSync(box, { recursive: true, force: true });
  }
}

/** The kit reader and kit verify on a (mutated) kit tar. */
export async function kitCase(bytes: Uint8Array, scratch: string): Promise<Outcome | 'invalid'> {
  const box = mkdtempSync(path.join(scratch, 'k-'));
  try {
    const kit = path.join(box, 'kit.tar');
    writeFileSync(kit, bytes);
    const dir = path.join(box, 'staging');
    try {
      await extractKitTar(kit, dir);
    } catch (err) {
      const outcome = expectCoded(err, ['KIT_INVALID', 'BLOB_SIZE_MISMATCH'], 'kit extract');
      const stray = tree(box).filter((p) => p !== 'kit.tar' && p !== 'staging' && !p.startsWith(`staging${path.sep}`));
      if (stray.length) throw new FuzzViolation(`kit extract wrote outside staging: ${JSON.stringify(stray.slice(0, 5))}`);
      return outcome;
    }
    const stray = tree(box).filter((p) => p !== 'kit.tar' && p !== 'staging' && !p.startsWith(`staging${path.sep}`));
    if (stray.length) throw new FuzzViolation(`kit extract wrote outside staging: ${JSON.stringify(stray.slice(0, 5))}`);
    let report;
    try {
      report = await verifyKitDir(kit, dir, { paths: resolvePaths({ FLIGHTDECK_HOME: path.join(box, 'home') }), policy: undefined });
    } catch (err) {
      throw new FuzzViolation(`kit verify threw instead of reporting: ${String(err)}`);
    }
    for (const p of report.problems)
      if (typeof p.code !== 'string' || !p.code) throw new FuzzViolation(`kit verify problem without a code: ${JSON.stringify(p)}`);
    return report.ok ? 'ok' : 'invalid';
  } finally {
    rmSync(box, { recursive: true, force: true });
  }
}

/**
 * Where the disk cases write: tmpfs when the machine has one (the properties do not depend on
 * durability, and the kit reader's and pull's fsyncs would otherwise dominate), else the temp folder.
 */
export function scratchRoot(): string {
  if (process.env.FUZZ_TMP) return process.env.FUZZ_TMP;
  try {
    if (lstatSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no tmpfs
  }
  return os.tmpdir();
}

export interface FuzzTally {
  tar: Record<Outcome, number>;
  gzip: Record<Outcome, number>;
  unpack: Record<Outcome, number>;
  kit: Record<Outcome | 'invalid', number>;
  slowestMs: number;
}

export type Target = 'tar' | 'gzip' | 'unpack' | 'kit';

/** Run `counts[target]` cases of each target from one seeded generator (targets interleaved). */
export async function runArchiveFuzz(
  counts: Partial<Record<Target, number>>,
  random: () => number,
  opts: { onCase?: (done: number) => void } = {},
): Promise<FuzzTally> {
  const seeds = tarSeeds();
  const gzSeeds = seeds.map((s) => gzipSync(s));
  const kits = await kitSeeds();
  const scratch = mkdtempSync(path.join(scratchRoot(), 'fd-fuzz-run-'));
  const store = await OciLayout.open(path.join(scratch, 'store'), { create: true });
  const tally: FuzzTally = {
    tar: { ok: 0, refused: 0 },
    gzip: { ok: 0, refused: 0 },
    unpack: { ok: 0, refused: 0 },
    kit: { ok: 0, refused: 0, invalid: 0 },
    slowestMs: 0,
  };
  const left: Record<Target, number> = { tar: counts.tar ?? 0, gzip: counts.gzip ?? 0, unpack: counts.unpack ?? 0, kit: counts.kit ?? 0 };
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const gz = () => (random() < 0.7 ? gzipSync(mutateTar(pick(seeds), random)) : mutate(pick(gzSeeds), random));
  let done = 0;
  try {
    for (;;) {
      const open = (Object.keys(left) as Target[]).filter((k) => left[k] > 0);
      if (open.length === 0) break;
      const target = pick(open);
      left[target]--;
      const t = performance.now();
      if (target === 'tar') tally.tar[await tarCase(mutateTar(pick(seeds), random), false, random)]++;
      else if (target === 'gzip') tally.gzip[await tarCase(gz(), true, random)]++;
      else if (target === 'unpack') tally.unpack[await unpackCase(store, gz(), scratch)]++;
      else tally.kit[await kitCase(mutateTar(pick(kits), random), scratch)]++;
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - t);
      opts.onCase?.(++done);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return tally;
}
