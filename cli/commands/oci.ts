import { Option, type Command } from 'commander';
import { formatBytes, type Output } from '../output.js';
import { existsSync } from 'node:fs';
import { callApi, useCommandRegistry, useFlagCredential } from '../api.js';
import { isRegistryReference } from '../../core/oci/reference.js';
import { LINK_MODES, type LinkMode } from '../../core/oci/link-modes.js';
import { withInterrupt } from './signal.js';
import { readSecret } from '../secret-input.js';
import { applyRegistryFlags, registryFlagOptions, type RegistryFlagOpts } from './registry-flags.js';
import { ERROR_TABLE, FlightDeckError } from '../../core/errors.js';
import type {
  MasterManifestInfo,
  CacheList,
  CachePrune,
  CacheVerify,
  RefInspect,
  ListResult,
  PullResultInfo,
  PushResultInfo,
} from '../../core/api/contract.js';

export interface ConnOpts extends RegistryFlagOpts {
  plainHttp?: boolean;
  insecure?: boolean;
  username?: string;
  passwordStdin?: boolean;
}

export function connectionOptions(cmd: Command): Command {
  return registryFlagOptions(cmd)
    .option('--plain-http', 'talk plain HTTP to the registry (default for localhost)')
    .option('--no-plain-http', 'force HTTPS, even for localhost')
    .option('--insecure', 'do not verify the registry TLS certificate')
    .option('-u, --username <name>', 'registry user name (password from --password-stdin)')
    .option('--password-stdin', 'read the registry password from stdin');
}

/**
 * The registry (host[:port]) a command's target names: the first path component of `host/repo[:tag]`,
 * a bare `host[:port]`, nothing for an `oci:` layout (or a local file, with `fileOk`).
 */
export function targetRegistry(target: string, fileOk = false): string | undefined {
  if (target.startsWith('oci:')) return undefined;
  if (fileOk && !(isRegistryReference(target) && !existsSync(target))) return undefined;
  const host = target.trim().split('/')[0] ?? '';
  return host ? host.toLowerCase() : undefined;
}

/**
 * Credentials from flags (Basic), scoped like the env token to `registry`, the registry of the command's
 * target: neither is ever sent to another registry. Otherwise the lookup order of docs/credentials.md applies.
 */
export async function setupCredentials(o: ConnOpts, registry: string | undefined): Promise<{ plainHttp?: boolean; insecure?: boolean }> {
  if (o.passwordStdin && !o.username) throw new FlightDeckError('USAGE', '--password-stdin needs --username.');
  useCommandRegistry(registry);
  applyRegistryFlags(o, registry);
  if (o.username) {
    if (!o.passwordStdin) throw new FlightDeckError('USAGE', '--username needs --password-stdin (passwords are never taken as arguments).');
    if (!registry) throw new FlightDeckError('USAGE', '--username is for a registry target; this command names none (an oci: layout?).');
    useFlagCredential({ username: o.username, password: await readSecret({ fromStdin: true, prompt: '', what: 'password' }), registry });
  }
  return {
    ...(o.plainHttp === undefined ? {} : { plainHttp: o.plainHttp }),
    ...(o.insecure ? { insecure: true } : {}),
  };
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?$/i.exec(text.trim());
  if (!m) throw new FlightDeckError('USAGE', `${JSON.stringify(text)} is not a size (e.g. 500MiB, 2GiB).`);
  const unit = (m[2] ?? '').toLowerCase().replace(/i?b$/, '');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

function parseAge(text: string): number {
  const m = /^(\d+)\s*([smhdw])$/i.exec(text.trim());
  if (!m) throw new FlightDeckError('USAGE', `${JSON.stringify(text)} is not an age (e.g. 30d, 12h).`);
  const mult = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[(m[2] ?? 'd').toLowerCase() as 's'] ?? 86400;
  return Number(m[1]) * mult * 1000;
}

/**
 * Per-blob progress with bytes, rate and ETA. Under --json: one event per blob update
 * (`{"event":"progress","phase","digest","title","done","total","rate","eta"}`). On a TTY: one redrawn
 * line with the totals (bytes, rate, ETA) and each active blob's percentage.
 */
export function blobProgress(o: Output, task: string) {
  interface Blob {
    title: string;
    started: number;
    from: number;
    done: number;
    total: number;
    finished: boolean;
  }
  const blobs = new Map<string, Blob>();
  const started = Date.now();
  let bar: ReturnType<Output['progress']> | undefined;
  const rateOf = (done: number, from: number, since: number) => {
    const secs = (Date.now() - since) / 1000;
    return secs > 0 ? (done - from) / secs : 0;
  };
  const emit = (e: { type: string; [k: string]: unknown }) => {
    if (e.type === 'retry') {
      const { type: _type, ...notice } = e;
      if (o.opts.json) o.event({ event: 'retry', task, ...notice });
      else {
        if (bar) o.clearLine();
        o.warn(
          `${String(notice.reason)} on ${String(notice.request)}: retry ${String(notice.attempt)} of ${String(notice.of)} in ${(Number(notice.waitMs) / 1000).toFixed(1)} s`,
        );
      }
      return;
    }
    const digest = String(e.digest ?? '');
    if (!digest) return;
    const done = Number(e.done ?? 0);
    const total = Number(e.total ?? 0);
    let b = blobs.get(digest);
    if (!b) {
      b = { title: (e.title as string | undefined) ?? digest.slice(7, 19), started: Date.now(), from: done, done, total, finished: false };
      blobs.set(digest, b);
    }
    b.done = done;
    b.total = total;
    const finished = e.phase === 'done' || e.phase === 'skipped' || e.phase === 'exists' || e.phase === 'mounted';
    const rate = rateOf(done, b.from, b.started);
    const eta = rate > 0 ? Math.ceil(Math.max(0, (total - done) / rate)) : undefined;
    if (o.opts.json) {
      o.event({
        event: 'progress',
        task,
        phase: e.phase,
        digest,
        title: b.title,
        done,
        total,
        rate: Math.round(rate),
        ...(eta !== undefined ? { eta } : {}),
        ...(typeof e.endpoint === 'string' ? { endpoint: e.endpoint } : {}),
      });
      return;
    }
    bar ??= o.progress(task);
    if (finished) b.finished = true;
    let sumDone = 0;
    let sumTotal = 0;
    let moved = 0;
    for (const x of blobs.values()) {
      sumDone += x.done;
      sumTotal += x.total;
      moved += x.done - x.from;
    }
    const all = rateOf(moved, 0, started);
    const left = all > 0 ? ` ETA ${Math.ceil((sumTotal - sumDone) / all)}s` : '';
    const active = [...blobs.values()].filter((x) => !x.finished).map((x) => `${x.title} ${x.total ? Math.floor((100 * x.done) / x.total) : 0}%`);
    bar.update(
      sumDone,
      sumTotal,
      `${formatBytes(sumDone)}/${formatBytes(sumTotal)} ${formatBytes(Math.round(all))}/s${left}${active.length ? ` · ${active.join(' · ')}` : ''}`,
    );
  };
  /** End the progress line before the result is printed. */
  const finish = () => bar?.finish(`${blobs.size} blob(s)`);
  return { emit, finish };
}

export function registerOci(program: Command, out: () => Output): void {
  connectionOptions(
    program
      .command('pull')
      .description('Pull an artifact into the verified content store; --output writes its files to a folder')
      .argument('<ref>', 'host[:port]/repo[:tag][@sha256:...] or oci:<dir>[:tag|@digest]')
      .option('-o, --output <dir>', 'write each titled layer to DIR/<title>')
      .option('--unpack', 'unpack tar+gzip layers into DIR/<name>/ (refuses unsafe paths)')
      .addOption(
        new Option(
          '--link-mode <mode>',
          "auto: a file in DIR shares the store's verified copy when DIR is on the same file system (a clone, else a read-only hard link); copy: always write an independent file",
        )
          .choices(LINK_MODES)
          .default('auto'),
      )
      .option('--platform <p>', 'from an index, only manifests annotated flight.target-platform=P')
      .option('--offline', 'use only the content store (an imported kit): no network call at all')
      .addOption(new Option('-c, --concurrency <n>', 'parallel blob downloads').default(3).argParser((v) => Number(v))),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ flightdeck pull localhost:5000/flight/shared-types/wasm/complete:latest -o ./wasm\n  $ flightdeck pull oci:./kit:2025.06.06 --output out --unpack\n  $ flightdeck pull localhost:5000/flight/shared-types/wasm/complete:latest -o ./edit-me --link-mode copy',
    )
    .action(
      async (
        reference: string,
        opts: ConnOpts & { output?: string; unpack?: boolean; linkMode: LinkMode; platform?: string; offline?: boolean; concurrency: number },
      ) => {
        const o = out();
        if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1 || opts.concurrency > 16)
          throw new FlightDeckError('USAGE', '--concurrency must be 1..16.');
        const conn = await setupCredentials(opts, targetRegistry(reference));
        const progress = blobProgress(o, 'pull');
        const r = await withInterrupt((signal) =>
          callApi(
            'registry.pull',
            {
              reference,
              ...conn,
              concurrency: opts.concurrency,
              ...(opts.output ? { output: opts.output } : {}),
              ...(opts.unpack ? { unpack: true } : {}),
              ...(opts.output ? { linkMode: opts.linkMode } : {}),
              ...(opts.platform ? { platform: opts.platform } : {}),
              ...(opts.offline ? { offline: true } : {}),
            },
            { signal, emit: progress.emit },
          ),
        );
        progress.finish();
        o.result(r, (v) => renderPull(v, o));
      },
    );

  connectionOptions(
    program
      .command('push')
      .description('Push files as an OCI artifact (one layer per file, titled by file name)')
      .argument('<ref>', 'host[:port]/repo[:tag]')
      .argument('<files...>', 'FILE[:mediatype]')
      .option('-a, --annotation <k=v...>', 'manifest annotation (repeatable)')
      .option('--artifact-type <type>', 'the manifest artifactType')
      .option('--chunk-size <size>', 'upload in PATCH chunks of this size (e.g. 8MiB); default monolithic')
      .option('--mount-from <repo...>', 'try a cross-repository mount from these repositories first'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ flightdeck push localhost:5000/flight/shared-types/wasm/complete:2025.06.06 complete.wasm:application/wasm -a flight.component=complete',
    )
    .action(
      async (
        reference: string,
        files: string[],
        opts: ConnOpts & { annotation?: string[]; artifactType?: string; chunkSize?: string; mountFrom?: string[] },
      ) => {
        const o = out();
        const annotations: Record<string, string> = {};
        for (const a of opts.annotation ?? []) {
          const eq = a.indexOf('=');
          if (eq <= 0) throw new FlightDeckError('USAGE', `--annotation ${JSON.stringify(a)} must be key=value.`);
          annotations[a.slice(0, eq)] = a.slice(eq + 1);
        }
        const conn = await setupCredentials(opts, targetRegistry(reference));
        const progress = blobProgress(o, 'push');
        const r = await withInterrupt((signal) =>
          callApi(
            'registry.push',
            {
              reference,
              ...conn,
              files: files.map(splitFileArg),
              annotations,
              ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
              ...(opts.chunkSize ? { chunkSize: parseSize(opts.chunkSize) } : {}),
              ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}),
            },
            { signal, emit: progress.emit },
          ),
        );
        progress.finish();
        o.result(r, (v) => renderPush(v, o));
      },
    );

  connectionOptions(
    program
      .command('ls')
      .description('List the repositories of a registry, or the tags of a repository; --master reads the Flight master manifest')
      .argument('<target>', 'REGISTRY, REGISTRY/REPO, oci:<dir> or oci:<dir>:<repo>')
      .option('--master [repo:tag]', 'show what the master manifest lists (default flight/shared-types/manifest:latest)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ flightdeck ls localhost:5000\n  $ flightdeck ls localhost:5000/flight/shared-types/bundles/dreamcast\n  $ flightdeck ls localhost:5000 --master\n  $ flightdeck ls oci:./demo-kit\n  $ flightdeck ls oci:./demo-kit:flight/shared-types/bundles/vita',
    )
    .action(async (target: string, opts: ConnOpts & { master?: string | boolean }) => {
      const o = out();
      const conn = await setupCredentials(opts, targetRegistry(target));
      if (opts.master) {
        const r = await callApi('registry.master', { registry: target, ...conn, ...(typeof opts.master === 'string' ? { reference: opts.master } : {}) });
        o.result(r, (v) => renderMaster(v, o));
        return;
      }
      const r = await callApi('registry.list', { target, ...conn });
      o.result(r, (v) => renderList(v, o));
    });

  connectionOptions(
    program
      .command('inspect-ref')
      .description('Show a manifest: media type, artifactType, annotations, layers and sizes')
      .argument('<ref>', 'host[:port]/repo[:tag][@digest] or oci:<dir>[:tag|@digest]'),
  ).action(async (reference: string, opts: ConnOpts) => {
    const o = out();
    const r = await callApi('registry.inspect', { reference, ...(await setupCredentials(opts, targetRegistry(reference))) });
    o.result(r, (v) => renderInspect(v, o));
  });

  const cache = program.command('cache').description('The local content store: list, verify, prune');
  cache
    .command('ls')
    .description('List artifacts in the content store')
    .action(async () => {
      const o = out();
      o.result(await callApi('cache.list', {}), (v) => renderCacheList(v, o));
    });
  cache
    .command('verify')
    .description('Re-hash every blob and report corrupt ones (exit 6 when any)')
    .option('--fix', 'delete corrupt blobs so the next pull fetches them again')
    .action(async (opts: { fix?: boolean }) => {
      const o = out();
      const bar = o.progress('verify');
      const r = await callApi('cache.verify', opts.fix ? { fix: true } : {}, { emit: (e) => bar.update(Number(e.done), Number(e.total)) });
      bar.finish();
      o.result(r, (v) => renderVerify(v, o));
      if (r.corrupt.length > 0) o.exitCode = ERROR_TABLE.BLOB_DIGEST_MISMATCH.exit;
    });
  cache
    .command('prune')
    .description('Untag old entries or those beyond a size cap, delete unreferenced blobs')
    .option('--older-than <age>', 'untag entries pulled longer ago (e.g. 30d, 12h)')
    .option('--max-size <size>', 'keep the newest entries that fit (e.g. 2GiB)')
    .action(async (opts: { olderThan?: string; maxSize?: string }) => {
      const o = out();
      const r = await callApi('cache.prune', {
        ...(opts.olderThan ? { olderThanMs: parseAge(opts.olderThan) } : {}),
        ...(opts.maxSize ? { maxBytes: parseSize(opts.maxSize) } : {}),
      });
      o.result(r, (v) => renderPrune(v, o));
    });
  for (const c of cache.commands) c.exitOverride().configureOutput(program.configureOutput());
}

/** `file.wasm:application/wasm` → path + media type (a Windows drive letter is not a media type). */
export function splitFileArg(arg: string): { path: string; mediaType?: string } {
  const m = /^(.+?):([a-z0-9][\w.+-]*\/[\w.+-]+)$/i.exec(arg);
  if (m?.[1] && m[2] && !/^[A-Za-z]$/.test(m[1])) return { path: m[1], mediaType: m[2] };
  return { path: arg };
}

function renderPull(r: PullResultInfo, o: Output): string {
  const lines = [
    `${o.green('✔')} pulled ${o.bold(r.reference)}`,
    `  digest ${r.digest}`,
    `  ${r.blobsDownloaded} blob(s) downloaded (${formatBytes(r.bytesDownloaded)}), ${r.blobsSkipped} already in the store`,
  ];
  const how = { clone: 'cloned', hardlink: 'linked', copy: 'wrote' } as const;
  for (const f of r.files) {
    const note =
      f.method === 'hardlink'
        ? o.dim(` — a ${process.platform === 'win32' ? '' : 'read-only '}hard link to the store's verified copy`)
        : f.method === 'clone'
          ? o.dim(" — a clone of the store's verified copy")
          : '';
    lines.push(`  ${f.unpacked ? 'unpacked' : how[f.method ?? 'copy']} ${f.path} (${formatBytes(f.size)})${note}`);
  }
  return lines.join('\n');
}

function renderPush(r: PushResultInfo, o: Output): string {
  return [
    `${o.green('✔')} pushed ${o.bold(r.reference)}`,
    `  digest ${r.digest}`,
    `  ${r.uploaded} blob(s) uploaded, ${r.skipped} already there, ${r.mounted} mounted`,
  ].join('\n');
}

function renderList(r: ListResult, o: Output): string {
  const lines = r.items.slice();
  if (r.note) lines.push(o.dim(r.note));
  return lines.join('\n');
}

function renderInspect(r: RefInspect, o: Output): string {
  const lines = [o.bold(r.reference), `  digest        ${r.digest}`, `  mediaType     ${r.mediaType}`];
  if (r.artifactType) lines.push(`  artifactType  ${r.artifactType}`);
  lines.push(`  size          ${formatBytes(r.totalSize)} total`);
  const ann = Object.entries(r.annotations);
  if (ann.length) {
    lines.push('  annotations');
    for (const [k, v] of ann) lines.push(`    ${k} = ${v}`);
  }
  if (r.layers.length) {
    lines.push('  layers');
    for (const l of r.layers)
      lines.push(
        `    ${l.digest.slice(0, 19)}  ${formatBytes(l.size).padStart(10)}  ${l.mediaType}  ${l.annotations?.['org.opencontainers.image.title'] ?? ''}`,
      );
  }
  if (r.manifests.length) {
    lines.push('  manifests');
    for (const m of r.manifests) {
      const p = m.annotations?.['flight.target-platform'] ?? [m.platform?.os, m.platform?.architecture].filter(Boolean).join('/');
      lines.push(`    ${m.digest.slice(0, 19)}  ${formatBytes(m.size).padStart(10)}  ${m.mediaType}  ${p}`);
    }
  }
  return lines.join('\n');
}

function renderCacheList(r: CacheList, o: Output): string {
  const lines = r.entries.map((e) => `${e.reference}  ${o.dim(e.digest.slice(0, 19))}  ${formatBytes(e.size)}  ${o.dim(e.pulledAt ?? '')}`);
  lines.push(o.dim(`${r.blobs} blob(s), ${formatBytes(r.totalBytes)} in ${r.root}`));
  return lines.join('\n');
}

function renderVerify(r: CacheVerify, o: Output): string {
  const lines = [`${r.corrupt.length === 0 ? o.green('✔') : o.red('✘')} ${r.checked} blob(s) re-hashed (${formatBytes(r.bytes)}), ${r.corrupt.length} corrupt`];
  for (const c of r.corrupt) lines.push(`  ${o.red('corrupt')} ${c.digest} (hashes to ${c.actual})${c.removed ? ' — removed' : ''}`);
  if (r.corrupt.length > 0 && !r.corrupt[0]?.removed)
    lines.push(o.dim('  run `flightdeck cache verify --fix` to delete them; the next pull fetches them again'));
  for (const q of r.quarantined ?? []) lines.push(`  ${o.dim('quarantined')} ${q.digest} (hashed to ${q.actual}, set aside ${q.quarantinedAt}) → ${q.file}`);
  return lines.join('\n');
}

function renderPrune(r: CachePrune, _o: Output): string {
  return [
    `untagged ${r.untagged.length}: ${r.untagged.join(', ') || '-'}`,
    `removed ${r.removedBlobs} blob(s), freed ${formatBytes(r.freedBytes)}, ${formatBytes(r.remainingBytes)} remain`,
  ].join('\n');
}

function renderMaster(r: MasterManifestInfo, o: Output): string {
  const lines = [o.bold(r.reference), `  digest ${r.digest}`];
  for (const [k, v] of Object.entries(r.annotations)) lines.push(`  ${k} = ${v}`);
  lines.push(`  ${r.documents.length} document(s): ${r.documents.map((d) => d.title).join(', ') || '-'}`);
  lines.push(`  artifacts (${r.entries.length}):`);
  const width = Math.max(0, ...r.entries.map((e) => e.reference.length));
  for (const e of r.entries) {
    const note = [e.category, e.platforms.join(',')].filter(Boolean).join('  ');
    const pinned = e.digest && e.tag ? `pinned ${e.digest.slice(0, 19)}` : '';
    lines.push(`    ${e.reference.padEnd(width)}  ${o.dim([note, pinned].filter(Boolean).join('  '))}`.trimEnd());
  }
  return lines.join('\n');
}
