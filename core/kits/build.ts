/**
 * `kit build`: read the master manifest of a namespace (in a registry or an OCI layout), select the
 * artifacts for the platforms, resolve their tags to digests, fetch their cosign signatures and apply the
 * signature policy, pull everything into the content store (shared with `pull`, resumable), run the
 * platform checks, and write a deterministic OCI image layout (a directory, or a tar) with kit-lock.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { FlightDeckPaths } from '../config/paths.js';
import { packageVersion } from '../config/package.js';
import { FlightDeckError, throwIfAborted } from '../errors.js';
import { KIT_LOCK_SCHEMA, type KitArtifact, type KitBuild, type KitLock } from './schema.js';
import { fileCopy, fsError, type BlobCopy, type OciLayout } from '../oci/layout.js';
import { ANNOTATION_CREATED, ANNOTATION_REF_NAME, digestOf, type Descriptor } from '../oci/manifest.js';
import { isNotFound, type ServedBy } from '../oci/mirrors.js';
import { pull, type BlobEvent, type ContentSource, type ResolvedManifest } from '../oci/pull.js';
import type { BlobProgressEvent, KitPlanEvent } from '../oci/schema.js';
import { isDigest, isRepository, isTag, type Reference } from '../oci/reference.js';
import { enforcePolicy, referrersTag, signatureSet, signatureTag, type CosignSignature, type Policy } from './signatures.js';
import { InPlaceTar, KIT_LOCK_FILE } from './tar.js';
import { runChecks, verifyKitDir } from './verify.js';
import { claimKitOutput, type ClaimedOutput } from './output.js';
import { openKit, refuse } from './import.js';

export type KitInclude = 'bindings' | 'wit';
/** Categories of the master manifest that are checked against platforms. */
const CHECKED = new Set(['bundles', 'wasm']);
const INCLUDE_CATEGORY: Record<KitInclude, string> = { bindings: 'bindings', wit: 'interfaces' };

/** Where a kit's content comes from: a registry namespace or an OCI layout. */
export interface KitOrigin {
  /** As given to --from. */
  from: string;
  registry: string | null;
  namespace: string;
  /** A content source for `repository` at `reference` (a tag or a digest). */
  source(repository: string, reference: string): ContentSource;
  /** The reference the content store tags a pulled `repository@digest` with. */
  reference(repository: string, digest: string): Reference;
  /** The referrers API's index for `digest`, or null (no API, or no referrers). */
  referrers(repository: string, digest: string, signal?: AbortSignal): Promise<ResolvedManifest | null>;
  /** A registry read through mirrors: which endpoint served each blob (by digest), for the `done` events. */
  servedBy?: ServedBy | undefined;
}

async function resolveOrNull(source: ContentSource, signal?: AbortSignal): Promise<ResolvedManifest | null> {
  try {
    return await source.resolve(signal);
  } catch (err) {
    // Behind a mirror with the registry out of reach, "the mirror has no such tag" counts as absent too.
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The events of a build (schema: core/oci/schema.ts, KitBuildEventsSchema): the plan, then blob progress. */
export type KitBuildEvent = KitPlanEvent | BlobProgressEvent;

export interface BuildOptions {
  origin: KitOrigin;
  store: OciLayout;
  paths: FlightDeckPaths;
  platforms: string[];
  /** Tag of the master manifest (`<namespace>/manifest:<tag>`). */
  tag: string;
  include: KitInclude[];
  output: string;
  /**
   * Replace the kit at `output` (never anything else): the new kit is built beside it, verified like
   * `kit verify` does, fsynced and renamed over it; a failed build leaves the old kit as it was.
   */
  replace?: boolean | undefined;
  /** Build time: --created, else SOURCE_DATE_EPOCH (seconds), else the master manifest's created date. */
  created?: string | undefined;
  sourceDateEpoch?: string | undefined;
  policy: Policy | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: (e: KitBuildEvent) => void;
  /**
   * `kit build --lab`: exactly these bundles (repository → the platform, the locked digest and the tag the
   * kit names it by) instead of the master manifest's selection; the master manifest is still included.
   */
  pins?: ReadonlyMap<string, { platform: string; digest: string; tag: string }> | undefined;
}

// Names from the master manifest go into registry URLs and layout ref names: validated first.
const MasterDocSchema = z.object({
  artifacts: z.array(
    z.object({
      repository: z.string().refine(isRepository, 'not a repository name'),
      tag: z.string().refine(isTag, 'not a tag'),
      digest: z.string().refine(isDigest, 'not a digest').optional(),
      category: z.string(),
      platforms: z.array(z.string()).default([]),
    }),
  ),
});

interface Selected {
  ref: string;
  repository: string;
  tag: string;
  category: string;
  platforms: string[];
  top: ResolvedManifest;
  blobs: Descriptor[];
  /** The cosign `.sig` manifest and/or the referrers index, as found. */
  signatures: Array<{ ref: string; top: ResolvedManifest; blobs: Descriptor[] }>;
}

/** Every descriptor a manifest reaches (itself first), fetching child manifests of an index. */
async function graphOf(source: ContentSource, top: ResolvedManifest, signal?: AbortSignal): Promise<Descriptor[]> {
  const out: Descriptor[] = [top.descriptor];
  const m = top.manifest;
  if (m.kind === 'manifest') return [...out, m.config, ...m.layers];
  for (const child of m.manifests) out.push(...(await graphOf(source, await source.manifest(child, signal), signal)));
  return out;
}

function buildTime(opts: BuildOptions, master: Record<string, string>): string {
  const text =
    opts.created ??
    (opts.sourceDateEpoch ? new Date(Number(opts.sourceDateEpoch) * 1000).toISOString() : undefined) ??
    master[ANNOTATION_CREATED] ??
    master['flight.build-date'];
  const date = new Date(text ?? 0);
  if (Number.isNaN(date.getTime())) {
    throw new FlightDeckError(
      'INVALID_INPUT',
      `The build time ${JSON.stringify(text)} is not a date (--created, SOURCE_DATE_EPOCH or the master manifest's ${ANNOTATION_CREATED}).`,
    );
  }
  return date.toISOString();
}

/** Where the kit is written while it is built: blobs arrive as copies during the pull, or at the end. */
interface KitWriter {
  /** A BlobCopy for a blob the pull downloads now, or undefined (written by `finish` from the store). */
  copyFor(d: Descriptor): BlobCopy | undefined;
  /**
   * Write what is missing through the store's verified read, then the metadata, and hand the finished,
   * fsynced temp kit to `place` (which puts it at the output); returns the kit digest.
   */
  finish(store: OciLayout, blobs: Descriptor[], meta: Array<[string, Buffer]>, place: (temp: string) => Promise<void>): Promise<string>;
  /** Remove everything written so far. */
  abort(): Promise<void>;
}

/** KIT.tar, written in place (core/kits/tar.ts InPlaceTar); the kit digest is the tar's sha256. */
async function tarKit(output: string, blobs: Descriptor[], name: (d: Descriptor) => string, mtime: number): Promise<KitWriter> {
  const tar = await InPlaceTar.create(
    output,
    [{ name: 'blobs/', size: 0 }, { name: 'blobs/sha256/', size: 0 }, ...blobs.map((d) => ({ name: name(d), size: d.size }))],
    mtime,
  );
  return {
    copyFor: (d) => (tar.accepts(name(d)) && !tar.has(name(d)) ? tar.copyFor(name(d)) : undefined),
    async finish(store, all, meta, place) {
      // Through the store's verified read: a corrupt blob (BLOB_CORRUPT) removes the temp file.
      for (const d of all) if (!tar.has(name(d))) await tar.fill(name(d), (use) => store.withBlob(d, use));
      return tar.finish(
        meta.map(([n, bytes]) => ({ name: n, bytes })),
        place,
      );
    },
    abort: () => tar.abort(),
  };
}

/** KIT/, a layout directory staged beside it and renamed into place; the kit digest is kit-lock.json's. */
async function dirKit(output: string): Promise<KitWriter> {
  const staging = `${output}.partial-${randomBytes(4).toString('hex')}`;
  const file = (d: Descriptor) => path.join(staging, 'blobs', 'sha256', d.digest.slice(7));
  // Blobs copied (and fsynced) from the download stream.
  const copied = new Set<string>();
  await mkdir(path.join(staging, 'blobs', 'sha256'), { recursive: true }).catch((err: unknown) => {
    throw fsError(err, output);
  });
  return {
    copyFor: (d) => (copied.has(d.digest) ? undefined : fileCopy(file(d), () => copied.add(d.digest))),
    async finish(store, blobs, meta, place) {
      try {
        // Through the store's verified read: a corrupt blob (BLOB_CORRUPT) removes the staging folder.
        const rest = blobs.filter((d) => !copied.has(d.digest));
        for (const d of rest) await copyBlob(store, d, file(d));
        for (const [name, bytes] of meta) await writeFile(path.join(staging, name), bytes);
        // Every file on disk before the directory appears under its name.
        for (const f of [...rest.map(file), ...meta.map(([name]) => path.join(staging, name))]) {
          const fh = await open(f, 'r');
          await fh.sync().finally(() => fh.close());
        }
        await place(staging);
      } catch (err) {
        throw fsError(err, output);
      }
      return digestOf(meta.find(([name]) => name === KIT_LOCK_FILE)![1]);
    },
    abort: () => rm(staging, { recursive: true, force: true }),
  };
}

async function copyBlob(store: OciLayout, d: Descriptor, file: string): Promise<void> {
  // The staging folder is this build's own; a copy the pull dropped left no file.
  const fh = await open(file, 'w');
  try {
    await store.withBlob(d, async (chunks) => {
      for await (const chunk of chunks) await fh.write(chunk);
    });
  } finally {
    await fh.close();
  }
}

/**
 * Build a kit at `options.output`, claimed for the whole build (core/kits/output.ts): another process
 * building there is KIT_OUTPUT_BUSY, an existing kit KIT_OUTPUT_EXISTS unless `replace`, anything else
 * INVALID_INPUT, all before any download.
 */
export async function buildKit(options: BuildOptions): Promise<KitBuild> {
  const claimed = await claimKitOutput(path.resolve(options.output), options.replace === true);
  try {
    return await buildInto(options, claimed);
  } finally {
    await claimed.release();
  }
}

/** Put the finished temp kit in place; with `replace`, it is verified as `kit verify` would first (the old kit stays if not). */
async function placeVerified(opts: BuildOptions, claimed: ClaimedOutput, temp: string): Promise<void> {
  if (opts.replace) {
    const opened = await openKit(temp, opts.store.ingestDir(), opts.store);
    try {
      const report = await verifyKitDir(claimed.output, opened.dir, {
        paths: opts.paths,
        policy: opts.policy,
        signal: opts.signal,
        ...(opened.extracted ? { hashed: opened.extracted.hashed } : {}),
      });
      if (!report.ok) refuse(report, 'replaced');
    } finally {
      await opened.close();
    }
  }
  throwIfAborted(opts.signal);
  await claimed.place(temp);
}

async function buildInto(options: BuildOptions, claimed: ClaimedOutput): Promise<KitBuild> {
  // The same platforms in any order are the same input: the kit must not differ.
  const opts = { ...options, platforms: [...new Set(options.platforms)].sort() };
  const { origin, store, signal } = opts;
  const output = claimed.output;
  const format = output.endsWith('.tar') ? 'tar' : 'dir';
  const servedBy = origin.servedBy;
  const emitBlob = (e: BlobEvent) =>
    opts.onEvent?.({ type: 'progress', task: 'blob', ...e, ...(e.phase === 'done' && servedBy?.has(e.digest) ? { endpoint: servedBy.get(e.digest) } : {}) });

  // 1. The master manifest.
  const masterRepo = `${origin.namespace}/manifest`;
  const masterTop = await origin.source(masterRepo, opts.tag).resolve(signal);
  const master = await pull(origin.source(masterRepo, masterTop.descriptor.digest), store, origin.reference(masterRepo, masterTop.descriptor.digest), {
    signal,
    onEvent: emitBlob,
  });
  let doc: z.infer<typeof MasterDocSchema> | undefined;
  let why = 'no JSON layer';
  for (const layer of master.layers) {
    if (!/json/.test(layer.mediaType)) continue;
    let json: unknown;
    try {
      json = JSON.parse((await store.readBlob(layer.digest)).toString('utf8'));
    } catch (err) {
      if (err instanceof FlightDeckError) throw err;
      why = `layer ${layer.digest} is not JSON`;
      continue;
    }
    const parsed = MasterDocSchema.safeParse(json);
    if (parsed.success) doc = parsed.data;
    else
      why = parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')
        .slice(0, 400);
  }
  if (!doc) {
    throw new FlightDeckError('MANIFEST_INVALID', `The master manifest ${origin.from} ${masterRepo}:${opts.tag} has no valid artifacts[] list (${why}).`);
  }

  const created = buildTime(opts, master.annotations);

  // 2. Select and resolve: tags → digests, as the master manifest pins them.
  const unique = [...new Map(doc.artifacts.map((a) => [`${a.repository}:${a.tag}`, a])).values()];
  const wanted = opts.pins
    ? [...opts.pins].map(([repository, pin]) => ({
        ...(unique.find((a) => a.repository === repository) ?? { category: 'bundles', platforms: [pin.platform] }),
        repository,
        tag: pin.tag,
        digest: pin.digest,
      }))
    : unique.filter(
        (a) => (CHECKED.has(a.category) && a.platforms.some((p) => opts.platforms.includes(p))) || opts.include.some((i) => INCLUDE_CATEGORY[i] === a.category),
      );
  for (const p of opts.platforms) {
    if (!wanted.some((a) => a.category === 'bundles' && a.platforms.includes(p))) {
      throw new FlightDeckError('NOT_FOUND', `The master manifest ${masterRepo}:${opts.tag} lists no bundle for platform ${p}.`, { details: { platform: p } });
    }
  }
  const selected: Selected[] = [];
  for (const a of wanted.sort((x, y) => (x.repository < y.repository ? -1 : 1))) {
    throwIfAborted(signal);
    const top = await origin.source(a.repository, opts.pins && a.digest ? a.digest : a.tag).resolve(signal);
    if (a.digest && a.digest !== top.descriptor.digest) {
      throw new FlightDeckError(
        'BLOB_DIGEST_MISMATCH',
        `${a.repository}:${a.tag} resolves to ${top.descriptor.digest}, but the master manifest pins ${a.digest}.`,
        {
          hint: 'The tag moved after the master manifest was published; rebuild from a consistent master (--tag DATE).',
          details: { reference: `${a.repository}:${a.tag}` },
        },
      );
    }
    const pinned = origin.source(a.repository, top.descriptor.digest);
    const blobs = await graphOf(pinned, top, signal);
    const signatures: Selected['signatures'] = [];
    const attach = async (tag: string, found: ResolvedManifest | null) => {
      if (found) signatures.push({ ref: `${a.repository}:${tag}`, top: found, blobs: await graphOf(pinned, found, signal) });
    };
    await attach(signatureTag(top.descriptor.digest), await resolveOrNull(origin.source(a.repository, signatureTag(top.descriptor.digest)), signal));
    const referrers =
      (await origin.referrers(a.repository, top.descriptor.digest, signal)) ??
      (await resolveOrNull(origin.source(a.repository, referrersTag(top.descriptor.digest)), signal));
    await attach(referrersTag(top.descriptor.digest), referrers);
    selected.push({
      ref: `${a.repository}:${a.tag}`,
      repository: a.repository,
      tag: a.tag,
      category: a.category,
      platforms: a.platforms,
      top,
      blobs,
      signatures,
    });
  }

  // 3. The plan: total size, and what the content store still lacks.
  const all = new Map<string, Descriptor>();
  for (const d of await graphOf(origin.source(masterRepo, master.digest), masterTop, signal)) all.set(d.digest, d);
  for (const s of selected) for (const d of [...s.blobs, ...s.signatures.flatMap((x) => x.blobs)]) all.set(d.digest, d);
  let totalBytes = 0;
  let downloadBytes = 0;
  for (const d of all.values()) {
    totalBytes += d.size;
    if (!(await store.has(d))) downloadBytes += d.size;
  }
  opts.onEvent?.({ type: 'plan', artifacts: selected.length, totalBytes, downloadBytes });

  // 4. Signatures first (small), so the policy refuses before the payloads are downloaded.
  const verdicts = new Map<string, string[]>();
  for (const s of selected) {
    const sigs: CosignSignature[] = [];
    for (const sig of s.signatures) {
      const digest = sig.top.descriptor.digest;
      const source = origin.source(s.repository, digest);
      // A referrers index from the API has no digest reference of its own on the registry: serve it as is.
      await pull({ ...source, resolve: async () => sig.top }, store, origin.reference(s.repository, digest), {
        signal,
        onEvent: emitBlob,
        verifyExisting: false,
      });
      sigs.push(...(await signatureSet(store, digest)));
    }
    verdicts.set(
      s.ref,
      enforcePolicy(opts.policy, { registry: origin.registry, repository: s.repository, digest: s.top.descriptor.digest }, s.signatures.length ? sigs : null)
        .verifiedBy,
    );
  }

  // 5. The payloads, into the content store (resumable: partial blobs are kept and continued). The kit is
  // laid out first (every size is known): a blob downloaded now is written into the kit from the same
  // verified stream as the store (BlobCopy), so its bytes are not read and hashed a second time.
  const blobs = [...all.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  const blobName = (d: Descriptor) => `blobs/sha256/${d.digest.slice(7)}`;
  const mtime = Math.floor(Date.parse(created) / 1000);
  throwIfAborted(signal);
  const kit: KitWriter = format === 'tar' ? await tarKit(output, blobs, blobName, mtime) : await dirKit(output);
  let kitDigest: string;
  let lock: KitLock;
  try {
    for (const s of selected) {
      const digest = s.top.descriptor.digest;
      // Blobs already stored are not hashed here: the checks and the copy into the kit read them verified.
      await pull(origin.source(s.repository, digest), store, origin.reference(s.repository, digest), {
        signal,
        onEvent: emitBlob,
        verifyExisting: false,
        copyTo: async (d) => kit.copyFor(d),
      });
    }
    // 6. Platform checks on the stored bytes.
    const checks = await runChecks(
      opts.paths,
      store.root,
      opts.platforms.map((platform) => ({
        platform,
        refs: selected.filter((s) => CHECKED.has(s.category) && s.platforms.includes(platform)).map((s) => ({ ref: s.ref, digest: s.top.descriptor.digest })),
      })),
      signal,
    );

    // 7. The lock and the layout.
    const size = (blobs: Descriptor[]) => [...new Map(blobs.map((d) => [d.digest, d.size])).values()].reduce((a, n) => a + n, 0);
    const artifacts: KitArtifact[] = selected.map((s) => ({
      ref: s.ref,
      repository: s.repository,
      tag: s.tag,
      category: s.category,
      digest: s.top.descriptor.digest,
      mediaType: s.top.descriptor.mediaType,
      ...(s.top.manifest.artifactType ? { artifactType: s.top.manifest.artifactType } : {}),
      platforms: s.platforms,
      size: size(s.blobs),
      signatures: s.signatures.map((x) => ({ ref: x.ref, digest: x.top.descriptor.digest })),
      verifiedBy: verdicts.get(s.ref) ?? [],
    }));
    const masterRef = `${masterRepo}:${opts.tag}`;
    lock = {
      schema: KIT_LOCK_SCHEMA,
      tool: { name: 'flightdeck', version: packageVersion() },
      created,
      source: { from: origin.from, registry: origin.registry, namespace: origin.namespace, master: { ref: masterRef, digest: master.digest } },
      platforms: opts.platforms,
      include: [...opts.include].sort(),
      artifacts,
      checks,
      totalBytes,
    };
    const entry = (name: string, top: ResolvedManifest) => ({
      mediaType: top.descriptor.mediaType,
      digest: top.descriptor.digest,
      size: top.descriptor.size,
      ...(top.manifest.artifactType ? { artifactType: top.manifest.artifactType } : {}),
      annotations: { [ANNOTATION_REF_NAME]: name },
    });
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [entry(masterRef, masterTop), ...selected.flatMap((s) => [entry(s.ref, s.top), ...s.signatures.map((x) => entry(x.ref, x.top))])].sort(
        (a, b) => (a.annotations[ANNOTATION_REF_NAME] < b.annotations[ANNOTATION_REF_NAME] ? -1 : 1),
      ),
    };
    const meta: Array<[string, Buffer]> = [
      ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
      ['index.json', Buffer.from(JSON.stringify(index, null, 2) + '\n')],
      [KIT_LOCK_FILE, Buffer.from(JSON.stringify(lock, null, 2) + '\n')],
    ];
    throwIfAborted(signal);
    kitDigest = await kit.finish(store, blobs, meta, (temp) => placeVerified(opts, claimed, temp));
  } catch (err) {
    await kit.abort();
    throw err;
  }
  return {
    output,
    format,
    kitDigest,
    lock,
    downloadedBytes: downloadBytes,
    reusedBytes: totalBytes - downloadBytes,
    ...(claimed.replaced ? { replaced: true } : {}),
  };
}
