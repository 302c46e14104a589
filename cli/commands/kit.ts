import path from 'node:path';
import type { Command } from 'commander';
import { formatBytes, type Output } from '../output.js';
import { callApi } from '../api.js';
import { blobProgress, connectionOptions, setupCredentials, targetRegistry, type ConnOpts } from './oci.js';
import { withInterrupt } from './signal.js';
import { labRegistry } from './lab.js';
import { ERROR_TABLE, FlightDeckError } from '../../core/errors.js';
import type { KitBuild, KitImport, KitPush, KitVerify } from '../../core/api/contract.js';
import { KIT_INCLUDES } from '../../core/kits/includes.js';

type Include = (typeof KIT_INCLUDES)[number];

function parseInclude(text: string): Include[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    if (!(KIT_INCLUDES as readonly string[]).includes(i))
      throw new FlightDeckError('USAGE', `--include ${JSON.stringify(i)}: choose from ${KIT_INCLUDES.join(', ')}.`);
  }
  return items as Include[];
}

export function registerKit(program: Command, out: () => Output): void {
  const kit = program.command('kit').description('Offline bundle kits for air-gapped labs: build, verify, import, push');

  connectionOptions(
    kit
      .command('build')
      .description('Build a kit (OCI image layout directory, or .tar) for platforms, with a lock file and check results')
      .option('-p, --platform <id>', 'platform (repeat for several)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--from <source>', 'REGISTRY/flight/shared-types, or oci:DIR[:namespace]')
      .option('--lab <file>', 'a lab file: exactly the bundles its lock pins (platforms and source from the lab; run `lab lock` first)')
      .option('--tag <tag>', 'tag of the master manifest (a date or latest)', 'latest')
      .option('--include <list>', 'optional categories: bindings,wit (default wit)')
      .requiredOption('-o, --output <kit>', 'KIT.tar (deterministic archive) or KIT/ (layout directory)')
      .option('--replace', 'replace the kit already at --output once the new one is built and verified (a failed build keeps the old one)')
      .option('--created <iso-date>', 'build time recorded in the lock and the tar (default SOURCE_DATE_EPOCH, else the master manifest date)')
      .option('--policy <file>', 'signature policy (default <config>/policy.json when it exists)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ flightdeck kit build -p dreamcast -p vita --from localhost:5000/flight/shared-types --tag 2026.11.01 -o lab.tar\n  $ flightdeck kit build -p vita --from oci:assets/demo-kit --include bindings,wit -o kit/\n  $ flightdeck kit build --lab flightdeck.lab.yaml -o lab.tar',
    )
    .action(
      async (
        opts: ConnOpts & {
          platform: string[];
          from?: string;
          lab?: string;
          tag: string;
          include?: string;
          output: string;
          replace?: boolean;
          created?: string;
          policy?: string;
        },
      ) => {
        const o = out();
        if (!opts.lab && (!opts.from || opts.platform.length === 0))
          throw new FlightDeckError('USAGE', 'kit build needs --platform and --from, or --lab FILE.');
        const lab = opts.lab ? path.resolve(opts.lab) : undefined;
        const conn = await setupCredentials(opts, opts.from ? targetRegistry(opts.from) : lab ? labRegistry(lab) : undefined);
        const blobs = blobProgress(o, 'kit');
        const r = await withInterrupt((signal) =>
          callApi(
            'kit.build',
            {
              platforms: opts.platform,
              ...(opts.from ? { from: opts.from } : {}),
              ...(lab ? { lab } : {}),
              tag: opts.tag,
              output: opts.output,
              ...(opts.replace ? { replace: true } : {}),
              ...(opts.include !== undefined ? { include: parseInclude(opts.include) } : {}),
              ...(opts.created ? { created: opts.created } : {}),
              ...(opts.policy ? { policy: opts.policy } : {}),
              ...conn,
            },
            {
              signal,
              emit: (e) => {
                if (e.type === 'plan') {
                  const msg = `kit: ${String(e.artifacts)} artifact(s), ${formatBytes(Number(e.totalBytes))} in total, ${formatBytes(Number(e.downloadBytes))} to download`;
                  if (o.opts.json) o.event({ event: 'plan', artifacts: e.artifacts, totalBytes: e.totalBytes, downloadBytes: e.downloadBytes });
                  else o.info(msg);
                } else blobs.emit(e);
              },
            },
          ),
        );
        blobs.finish();
        o.result(r, (v) => renderBuild(v, o));
      },
    );

  kit
    .command('verify')
    .description('Verify a kit: layout, every blob re-hashed, lock file, signatures, platform checks (exit 6 when it fails)')
    .argument('<kit>', 'KIT.tar or KIT/')
    .option('--policy <file>', 'signature policy (default <config>/policy.json when it exists)')
    .action(async (kitPath: string, opts: { policy?: string }) => {
      const o = out();
      const bar = o.progress('verify');
      const r = await callApi(
        'kit.verify',
        { kit: kitPath, ...(opts.policy ? { policy: opts.policy } : {}) },
        { emit: (e) => bar.update(Number(e.done), Number(e.total)) },
      );
      bar.finish();
      o.result(r, (v) => renderVerify(v, o));
      if (!r.ok) {
        const code = r.problems[0]?.code;
        o.exitCode = code === 'SIGNATURE_REQUIRED' || code === 'SIGNATURE_INVALID' ? ERROR_TABLE[code].exit : ERROR_TABLE.KIT_INVALID.exit;
      }
    });

  kit
    .command('import')
    .description('Verify a kit and import it into the local content store (all or nothing); then pull/check work with --offline')
    .argument('<kit>', 'KIT.tar or KIT/')
    .option('--policy <file>', 'signature policy (default <config>/policy.json when it exists)')
    .action(async (kitPath: string, opts: { policy?: string }) => {
      const o = out();
      const r = await callApi('kit.import', { kit: kitPath, ...(opts.policy ? { policy: opts.policy } : {}) });
      o.result(r, (v) => renderImport(v, o));
    });

  connectionOptions(
    kit
      .command('push')
      .description('Mirror a verified kit into a (lab) registry: every ref keeps its repository and tag')
      .argument('<kit>', 'KIT.tar or KIT/')
      .argument('<registry>', 'host[:port] of the lab registry')
      .option('--policy <file>', 'signature policy (default <config>/policy.json when it exists)'),
  ).action(async (kitPath: string, registry: string, opts: ConnOpts & { policy?: string }) => {
    const o = out();
    const conn = await setupCredentials(opts, targetRegistry(registry));
    const r = await callApi('kit.push', { kit: kitPath, registry, ...conn, ...(opts.policy ? { policy: opts.policy } : {}) });
    o.result(r, (v) => renderPush(v, o));
  });
  for (const c of kit.commands) c.exitOverride().configureOutput(program.configureOutput());
}

function renderBuild(r: KitBuild, o: Output): string {
  const lines = [
    `${o.green('✔')} kit ${o.bold(r.output)} (${r.format}) ${r.kitDigest}${r.replaced ? ' (replaced the old kit)' : ''}`,
    `  ${r.lock.artifacts.length} artifact(s), ${formatBytes(r.lock.totalBytes)}; ${formatBytes(r.downloadedBytes)} downloaded, ${formatBytes(r.reusedBytes)} from the content store`,
  ];
  for (const a of r.lock.artifacts) {
    const sig = a.signatures.length ? (a.verifiedBy.length ? `signed (${a.verifiedBy.join(', ')})` : 'signed (not verified: no key)') : 'unsigned';
    lines.push(`  ${a.ref}  ${o.dim(a.digest.slice(0, 19))}  ${formatBytes(a.size)}  ${sig}`);
  }
  for (const c of r.lock.checks)
    lines.push(
      `  ${c.fits ? o.green('✔') : o.red('✘')} ${c.platform}: ${c.results.length} artifact(s) checked${
        c.fits
          ? ''
          : `, ${c.results
              .filter((x) => !x.fits)
              .map((x) => x.ref)
              .join(', ')} do not fit`
      }`,
    );
  return lines.join('\n');
}

function renderVerify(r: KitVerify, o: Output): string {
  const lines = [
    `${r.ok ? o.green('✔ kit is valid') : o.red('✘ kit is invalid')} ${r.kit}`,
    `  ${r.blobs.checked} blob(s) re-hashed (${formatBytes(r.blobs.bytes)}), ${r.refs} ref(s), lock file ${r.lock ? 'consistent' : 'absent'}`,
  ];
  const sig = (s: string) => r.signatures.filter((x) => x.status === s).length;
  lines.push(`  signatures: ${sig('verified')} verified, ${sig('unverified')} present without a key, ${sig('unsigned')} unsigned, ${sig('invalid')} invalid`);
  for (const c of r.checks) lines.push(`  ${c.fits ? o.green('✔') : o.red('✘')} ${c.platform}: checks re-run on ${c.results.length} artifact(s)`);
  for (const p of r.problems) lines.push(`  ${o.red(`error[${p.code}]`)} ${p.message}`);
  return lines.join('\n');
}

function renderImport(r: KitImport, o: Output): string {
  return [
    `${o.green('✔')} imported ${r.kit} into ${r.store}`,
    `  ${r.refs.length} ref(s); ${r.blobsAdded} blob(s) added (${formatBytes(r.bytesAdded)}), ${r.blobsPresent} already present`,
    ...r.refs.map((x) => `  ${x}`),
  ].join('\n');
}

function renderPush(r: KitPush, o: Output): string {
  return [
    `${o.green('✔')} pushed ${r.refs.length} ref(s) to ${r.registry}: ${r.uploaded} blob(s) uploaded, ${r.skipped} already there`,
    ...r.refs.map((x) => `  ${x}`),
  ].join('\n');
}
