#!/usr/bin/env node
// Build and import a 256 MiB kit (8 × 32 MiB binding layers + the demo Vita bundle, listed by a master
// manifest in a local docker-registry) vs skopeo moving the same content to an OCI layout, in the same
// run, alternating, fresh destinations each time:
//   build:  flightdeck kit build -p vita --include bindings -o KIT.tar   vs  skopeo copy docker://… oci:DIR (each ref)
//   import: flightdeck kit import KIT.tar (into an empty store)         vs  skopeo copy oci-archive:KIT.tar:REF oci:DIR (each ref)
// then the import of a kit the store already holds (must move no blob bytes).
// Reports median wall time and peak RSS (from /usr/bin/time).
// Also `kit build -o KIT/` (a layout directory, what skopeo writes too). Goal (issue 19): build ≥ 1.0× skopeo.
//   node bench/kit.mjs [--runs=5] [--ignore-load]        (or `npm run bench -- kit`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, median, randomFile, startRegistry, timed } from './lib/util.mjs';
import { loadAtEnd, loadAtStart, ratio } from './lib/load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'flightdeck.js');
const DEMO = path.join(root, 'assets', 'demo-kit');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5);
const NS = 'flight/shared-types';

function must(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Several commands as one step: summed time, max RSS. */
const sum = (rs) => ({ secs: rs.reduce((a, r) => a + r.secs, 0), rssMiB: Math.max(...rs.map((r) => r.rssMiB)) });

const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-bench-kit-'));
const registry = await startRegistry(dir);
const { host } = registry;
try {
  // The content: the demo Vita bundle, 8 × 32 MiB binding layers, and a master manifest listing both.
  must('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${DEMO}:${NS}/bundles/vita:latest`, `docker://${host}/${NS}/bundles/vita:bench`]);
  const files = [];
  for (let i = 0; i < 8; i++) {
    const f = path.join(dir, `part-${i}.tar.gz`);
    randomFile(f, 32 * MiB);
    files.push(f);
  }
  const pushEnv = { FLIGHTDECK_HOME: path.join(dir, 'push-home') };
  const bulk = JSON.parse(must(process.execPath, [BIN, '--json', 'push', `${host}/${NS}/bindings/bulk:bench`, ...files], pushEnv));
  const master = path.join(dir, 'manifest.json');
  writeFileSync(
    master,
    JSON.stringify({
      artifacts: [
        { repository: `${NS}/bundles/vita`, tag: 'bench', category: 'bundles', platforms: ['vita'] },
        { repository: `${NS}/bindings/bulk`, tag: 'bench', digest: bulk.digest, category: 'bindings', platforms: [] },
      ],
    }),
  );
  must(
    process.execPath,
    [BIN, 'push', `${host}/${NS}/manifest:bench`, `${master}:application/json`, '-a', 'org.opencontainers.image.created=2026-11-01T00:00:00Z', '--quiet'],
    pushEnv,
  );
  const refs = [`${NS}/manifest:bench`, `${NS}/bundles/vita:bench`, `${NS}/bindings/bulk:bench`];

  await loadAtStart();
  const rows = { build: [], buildDir: [], skopeoBuild: [], imp: [], skopeoImp: [], again: [] };
  let kitBytes = 0;
  let again;
  for (let i = 0; i < runs; i++) {
    const home = path.join(dir, `home-${i}`);
    const kit = path.join(dir, `kit-${i}.tar`);
    rows.build.push(
      timed(process.execPath, [BIN, 'kit', 'build', '-p', 'vita', '--from', `${host}/${NS}`, '--tag', 'bench', '--include', 'bindings', '-o', kit, '--quiet'], {
        FLIGHTDECK_HOME: home,
      }),
    );
    kitBytes = Number(must('stat', ['-c', '%s', kit]));
    rmSync(home, { recursive: true, force: true });
    const layout = path.join(dir, `skopeo-${i}`);
    rows.skopeoBuild.push(sum(refs.map((r) => timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/${r}`, `oci:${layout}:${r}`]))));
    rmSync(layout, { recursive: true, force: true });
    const kitDir = path.join(dir, `kit-dir-${i}`);
    rows.buildDir.push(
      timed(
        process.execPath,
        [BIN, 'kit', 'build', '-p', 'vita', '--from', `${host}/${NS}`, '--tag', 'bench', '--include', 'bindings', '-o', kitDir, '--quiet'],
        {
          FLIGHTDECK_HOME: home,
        },
      ),
    );
    rmSync(home, { recursive: true, force: true });
    rmSync(kitDir, { recursive: true, force: true });

    const importHome = path.join(dir, `import-${i}`);
    rows.imp.push(timed(process.execPath, [BIN, 'kit', 'import', kit, '--quiet'], { FLIGHTDECK_HOME: importHome }));
    const second = timed(process.execPath, [BIN, '--json', 'kit', 'import', kit], { FLIGHTDECK_HOME: importHome });
    rows.again.push(second);
    again = JSON.parse(second.stdout);
    rmSync(importHome, { recursive: true, force: true });
    const layout2 = path.join(dir, `skopeo-import-${i}`);
    rows.skopeoImp.push(sum(refs.map((r) => timed('skopeo', ['copy', '--quiet', `oci-archive:${kit}:${r}`, `oci:${layout2}:${r}`]))));
    rmSync(layout2, { recursive: true, force: true });
    rmSync(kit, { force: true });
  }
  const row = (name, rs) =>
    `| ${name} | ${median(rs.map((r) => r.secs)).toFixed(2)} | ${(kitBytes / MiB / median(rs.map((r) => r.secs))).toFixed(0)} | ${Math.max(...rs.map((r) => r.rssMiB)).toFixed(0)} |`;
  const lines = [
    `kit: ${(kitBytes / MiB).toFixed(1)} MiB kit tar (8 × 32 MiB + the demo Vita bundle + master), local docker-registry, ${runs} runs each, ${os.cpus().length} cores, node ${process.versions.node}, ${readFileSync('/etc/debian_version', 'utf8').trim() ? `debian ${readFileSync('/etc/debian_version', 'utf8').trim()}` : ''}`,
    `| step | median s | MiB/s | peak RSS MiB (max) |`,
    `| --- | ---: | ---: | ---: |`,
    row('flightdeck kit build (registry → store → KIT.tar, checks run)', rows.build),
    row('flightdeck kit build -o KIT/ (layout directory)', rows.buildDir),
    row('skopeo copy docker:// → oci: (3 refs, summed)', rows.skopeoBuild),
    row('flightdeck kit import KIT.tar (empty store, full verify)', rows.imp),
    row('skopeo copy oci-archive:KIT.tar → oci: (3 refs, summed)', rows.skopeoImp),
    row('flightdeck kit import KIT.tar again (already present)', rows.again),
    ``,
    `kit build (tar): skopeo time / flightdeck time: ${ratio(median(rows.skopeoBuild.map((r) => r.secs)) / median(rows.build.map((r) => r.secs)))} (goal ≥ 1.0×); kit build -o DIR/: ${ratio(median(rows.skopeoBuild.map((r) => r.secs)) / median(rows.buildDir.map((r) => r.secs)))}`,
    `kit import: skopeo oci-archive time / flightdeck time: ${ratio(median(rows.skopeoImp.map((r) => r.secs)) / median(rows.imp.map((r) => r.secs)))}`,
    `re-import of a present kit: blobsAdded ${again.blobsAdded}, bytesAdded ${again.bytesAdded}, blobsPresent ${again.blobsPresent}`,
    `runs (s): build ${rows.build.map((r) => r.secs.toFixed(2)).join(' ')}; build dir ${rows.buildDir.map((r) => r.secs.toFixed(2)).join(' ')}; skopeo ${rows.skopeoBuild.map((r) => r.secs.toFixed(2)).join(' ')}; import ${rows.imp.map((r) => r.secs.toFixed(2)).join(' ')}; skopeo oci-archive ${rows.skopeoImp.map((r) => r.secs.toFixed(2)).join(' ')}`,
  ];
  console.log(lines.join('\n'));
  loadAtEnd();
} finally {
  registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
