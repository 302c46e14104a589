/**
 * Kit verification: the layout is valid, every blob is re-hashed, every index entry and manifest points at
 * blobs that are there, the lock file agrees with the index, signatures are checked against the policy and
 * the platform checks are re-run and compared with the lock. Problems are collected into a report; the
 * caller decides (verify prints it, import refuses).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { packageVersion } from '../config/package.js';
import { ERROR_TABLE, throwIfAborted, type FlightDeckError } from '../errors.js';
import { KitLockSchema, type KitCheck, type KitLock, type KitProblem, type KitVerify } from './schema.js';
import { hashFile, OciLayout } from '../oci/layout.js';
import { ANNOTATION_REF_NAME, parseManifest, type Descriptor } from '../oci/manifest.js';
import { findProfiles } from '../platforms/profiles.js';
import { checkTarget } from '../platforms/rules.js';
import { inspectTarget } from '../wasm/target.js';
import { enforcePolicy, isSignatureTag, layoutSignatures, type Policy, type SignatureWalk } from './signatures.js';
import { KIT_LOCK_FILE } from './tar.js';

export interface VerifyOptions {
  paths: FlightDeckPaths;
  policy: Policy | undefined;
  /** Digests already hashed (while extracting a tar): digest → actual digest. */
  hashed?: ReadonlyMap<string, string>;
  signal?: AbortSignal | undefined;
  onProgress?: (done: number, total: number) => void;
  /** Filled in as the manifest graph is walked (for tests and benchmarks). */
  stats?: GraphStats;
}

export interface GraphStats {
  /** Manifest and index blobs read and parsed. */
  manifestReads: number;
  /** Descriptors visited across every ref's walk. */
  visits: number;
}

/**
 * Caps on the walk of the manifest graph. Real content nests at most index → index → manifest → blobs
 * (depth 3); 8 leaves room for anything a registry serves. Each ref's walk visits a digest once, so the
 * visits are about refs × descriptors each ref reaches: a kit of 2,000 artifacts with a config, a few
 * layers and signatures each stays far below 100,000, and 100,000 memoized visits take well under a
 * second. Past either cap the kit is refused with KIT_INVALID.
 */
export const MAX_GRAPH_DEPTH = 8;
export const MAX_GRAPH_VISITS = 100_000;

/** Platform checks of artifacts in a layout (by digest), one result per platform and artifact. */
export async function runChecks(
  paths: FlightDeckPaths,
  dir: string,
  plan: Array<{ platform: string; refs: Array<{ ref: string; digest: string }> }>,
  signal?: AbortSignal,
): Promise<KitCheck[]> {
  const inspected = new Map<string, Awaited<ReturnType<typeof inspectTarget>>>();
  const out: KitCheck[] = [];
  for (const { platform, refs } of plan) {
    const profiles = await findProfiles(paths, [platform]);
    const results: KitCheck['results'] = [];
    for (const { ref, digest } of refs) {
      throwIfAborted(signal);
      let target = inspected.get(digest);
      if (!target) {
        target = await inspectTarget(`oci:${dir}@${digest}`, { signal: signal as AbortSignal });
        inspected.set(digest, target);
      }
      const report = checkTarget(target, profiles, packageVersion());
      const findings = report.platforms[0]?.findings ?? [];
      results.push({
        ref,
        fits: report.summary.fits,
        errors: report.summary.errors,
        warnings: report.summary.warnings,
        rules: [...new Set(findings.filter((f) => f.severity !== 'note').map((f) => f.ruleId))].sort(),
      });
    }
    out.push({ platform, fits: results.every((r) => r.fits), results });
  }
  return out;
}

/** The hint of a kit problem: that of the error refusing such a kit (signature codes keep theirs; all else is KIT_INVALID). */
export function kitProblemHint(code: string): string {
  return ERROR_TABLE[code === 'SIGNATURE_REQUIRED' || code === 'SIGNATURE_INVALID' ? code : 'KIT_INVALID'].hint;
}

export async function verifyKitDir(kit: string, dir: string, opts: VerifyOptions): Promise<KitVerify> {
  const problems: KitProblem[] = [];
  const problem = (code: string, message: string, subject?: string) =>
    problems.push({ code, message, hint: kitProblemHint(code), ...(subject ? { subject } : {}) });
  const report = (extra: Partial<KitVerify>): KitVerify => ({
    kit,
    blobs: { checked: 0, bytes: 0 },
    refs: 0,
    lock: false,
    signatures: [],
    checks: [],
    problems,
    ...extra,
    ok: problems.length === 0,
  });

  let layout: OciLayout;
  try {
    layout = await OciLayout.open(dir, { create: false });
  } catch (err) {
    problem('KIT_INVALID', (err as Error).message);
    return report({});
  }

  // Every blob file, re-hashed once.
  const actual = new Map<string, string>();
  const files = await layout.listBlobs();
  let bytes = 0;
  for (const [i, b] of files.entries()) {
    throwIfAborted(opts.signal);
    actual.set(b.digest, opts.hashed?.get(b.digest) ?? (await hashFile(b.file, b.digest.split(':')[0]!)));
    bytes += b.size;
    opts.onProgress?.(i + 1, files.length);
  }
  for (const [digest, got] of opts.hashed ?? []) if (!actual.has(digest)) actual.set(digest, got);
  const sizes = new Map(files.map((b) => [b.digest, b.size]));
  for (const [digest, got] of actual) if (digest !== got) problem('BLOB_DIGEST_MISMATCH', `blob ${digest} is tampered (its bytes hash to ${got}).`, digest);

  // The index and every manifest graph it starts.
  let refs: Array<{ name: string; entry: Descriptor }>;
  try {
    refs = (await layout.readIndex()).manifests.map((entry) => ({ name: entry.annotations?.[ANNOTATION_REF_NAME] ?? entry.digest, entry }));
  } catch (err) {
    problem('KIT_INVALID', (err as Error).message);
    return report({ blobs: { checked: files.length, bytes } });
  }
  // Each manifest or index is read and parsed once (memoized by digest), each ref's walk visits a digest
  // once, and the walk as a whole is capped in depth and in descriptor visits: a small kit can describe a
  // graph with astronomically many paths (a diamond of nested indexes), but never one that needs more.
  const reach = new Map<string, Set<string>>();
  const parsed = new Map<string, Descriptor[] | null>();
  const reported = new Set<string>();
  const once = (code: string, message: string, subject?: string) => {
    if (reported.has(`${code}\0${message}`)) return;
    reported.add(`${code}\0${message}`);
    problem(code, message, subject);
  };
  let visits = 0;
  let capped = false;
  const graph = async (d: Descriptor, from: string, into: Set<string>, depth = 0): Promise<void> => {
    if (capped) return;
    if (++visits > MAX_GRAPH_VISITS) {
      capped = true;
      return void problem(
        'KIT_INVALID',
        `the manifests reachable from index.json take more than ${MAX_GRAPH_VISITS} descriptor visits to walk (the cap); the kit is refused.`,
      );
    }
    if (opts.stats) opts.stats.visits = visits;
    const key = `${d.digest} ${d.size}`;
    const seen = into.has(key);
    into.add(key);
    if (seen) return;
    if (!sizes.has(d.digest)) return void once('KIT_INVALID', `${from} points to ${d.digest}, which is not in the kit.`, d.digest);
    if (sizes.get(d.digest) !== d.size)
      return void once('BLOB_SIZE_MISMATCH', `${from}: blob ${d.digest} has ${sizes.get(d.digest)} bytes, the descriptor says ${d.size}.`, d.digest);
    if (depth > 0 && !/manifest|index/.test(d.mediaType)) return;
    if (actual.get(d.digest) !== d.digest) return;
    if (depth >= MAX_GRAPH_DEPTH) {
      capped = true;
      return void problem(
        'KIT_INVALID',
        `${from} nests manifests and indexes more than ${MAX_GRAPH_DEPTH} levels deep (the cap); the kit is refused.`,
        d.digest,
      );
    }
    let children = parsed.get(d.digest);
    if (children === undefined) {
      if (opts.stats) opts.stats.manifestReads++;
      try {
        const m = parseManifest(await readFile(layout.blobPath(d.digest)), d.mediaType || undefined, `${kit}:${from}`);
        children = m.kind === 'index' ? m.manifests : [m.config, ...m.layers];
      } catch (err) {
        children = null;
        problem((err as FlightDeckError).code ?? 'MANIFEST_INVALID', (err as Error).message, d.digest);
      }
      parsed.set(d.digest, children);
    }
    for (const c of children ?? []) await graph(c, from, into, depth + 1);
  };
  for (const { name, entry } of refs) {
    throwIfAborted(opts.signal);
    const set = new Set<string>();
    await graph(entry, name, set);
    reach.set(name, new Set([...set].map((k) => k.split(' ')[0]!)));
  }
  if (capped) return report({ blobs: { checked: files.length, bytes }, refs: refs.length });
  const reachSize = (name: string) => [...(reach.get(name) ?? [])].reduce((a, d) => a + (sizes.get(d) ?? 0), 0);

  // The lock file, when the kit has one (a layout written by another tool may not).
  let lock: KitLock | undefined;
  const lockText = await readFile(path.join(dir, KIT_LOCK_FILE), 'utf8').catch(() => undefined);
  if (lockText !== undefined) {
    const parsed = (() => {
      try {
        return KitLockSchema.safeParse(JSON.parse(lockText));
      } catch (err) {
        return { success: false as const, error: err as Error };
      }
    })();
    if (parsed.success) lock = parsed.data;
    else problem('KIT_INVALID', `${KIT_LOCK_FILE} is not a valid kit lock: ${parsed.error.message.slice(0, 400)}`);
  }
  const byName = new Map(refs.map((r) => [r.name, r.entry]));
  if (lock) {
    const expect = (ref: string, digest: string, what: string) => {
      const e = byName.get(ref);
      if (!e) problem('KIT_INVALID', `the lock lists ${what} ${ref}, which index.json does not hold.`, ref);
      else if (e.digest !== digest) problem('KIT_INVALID', `the lock pins ${ref} to ${digest}, index.json to ${e.digest}.`, ref);
    };
    const known = new Set<string>([lock.source.master.ref]);
    expect(lock.source.master.ref, lock.source.master.digest, 'the master manifest');
    for (const a of lock.artifacts) {
      known.add(a.ref);
      expect(a.ref, a.digest, 'artifact');
      if (byName.get(a.ref)?.digest === a.digest && reachSize(a.ref) !== a.size) {
        problem('KIT_INVALID', `the lock says ${a.ref} is ${a.size} bytes, the kit holds ${reachSize(a.ref)}.`, a.ref);
      }
      for (const sig of a.signatures) {
        known.add(sig.ref);
        expect(sig.ref, sig.digest, 'signature');
      }
    }
    for (const r of refs) if (!known.has(r.name)) problem('KIT_INVALID', `index.json holds ${r.name}, which the lock does not list.`, r.name);
    if (lock.totalBytes !== bytes) problem('KIT_INVALID', `the lock says the kit holds ${lock.totalBytes} blob bytes, it holds ${bytes}.`);
  }

  // Signatures, under the policy (or, without one, reported as present but unverified).
  const signatures: KitVerify['signatures'] = [];
  const registry = lock?.source.registry ?? null;
  const signatureWalk: SignatureWalk = { byRef: new Map() };
  for (const { name, entry } of refs) if (!signatureWalk.byRef!.has(name)) signatureWalk.byRef!.set(name, entry);
  for (const { name, entry } of refs) {
    const colon = name.lastIndexOf(':');
    if (colon <= 0 || isSignatureTag(name.slice(colon + 1)) || !/^[a-z0-9]/.test(name)) continue;
    const repository = name.slice(0, colon);
    let found: Awaited<ReturnType<typeof layoutSignatures>> = null;
    try {
      found = await layoutSignatures(layout, repository, entry.digest, signatureWalk);
    } catch (err) {
      problem('SIGNATURE_INVALID', `signature of ${name}: ${(err as Error).message}`, name);
    }
    try {
      const verdict = enforcePolicy(opts.policy, { registry, repository, digest: entry.digest }, found?.signatures ?? null);
      const status = !found ? 'unsigned' : verdict.verifiedBy.length > 0 ? 'verified' : opts.policy ? 'invalid' : 'unverified';
      signatures.push({ ref: name, status, verifiedBy: verdict.verifiedBy });
    } catch (err) {
      const e = err as FlightDeckError;
      problem(e.code, e.message, name);
      signatures.push({ ref: name, status: e.code === 'SIGNATURE_REQUIRED' ? 'unsigned' : 'invalid', verifiedBy: [] });
    }
  }

  // Platform checks, re-run against the kit's own bytes and compared with the lock.
  let checks: KitCheck[] = [];
  if (lock && problems.length === 0) {
    const plan = lock.checks.map((c) => ({ platform: c.platform, refs: c.results.map((r) => ({ ref: r.ref, digest: byName.get(r.ref)?.digest ?? '' })) }));
    try {
      checks = await runChecks(opts.paths, dir, plan, opts.signal);
      const want = JSON.stringify(lock.checks);
      if (JSON.stringify(checks) !== want) problem('KIT_INVALID', 'the platform checks re-run on the kit disagree with the results recorded in the lock.');
    } catch (err) {
      if ((err as FlightDeckError).code === 'ABORTED') throw err;
      problem((err as FlightDeckError).code ?? 'KIT_INVALID', `platform checks: ${(err as Error).message}`);
    }
  }
  return report({ blobs: { checked: files.length, bytes }, refs: refs.length, lock: lock !== undefined, signatures, checks });
}
