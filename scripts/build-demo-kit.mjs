#!/usr/bin/env node
// Builds assets/demo-kit/: an OCI image layout holding the Flight shared-types demo artifacts for every
// platform, so a new user can try every feature offline (no registry, no hardware). The layout mirrors
// the registry layout of the seeds: flight/shared-types/{wasm/<name>, bundles/<platform>,
// bindings/<lang>, interfaces/wit, manifest}, each tagged with a date tag and `latest`.
//
// Sources are the .wat/.wit files in assets/demo-kit-src/, compiled with wat2wasm (apt: wabt). The
// output is deterministic (fixed times, owners and order; content-addressed blobs), so rebuilding gives
// a byte-identical tree: test/integration/assets/demo-kit.test.ts checks that the checked-in kit is
// up to date. Format: docs/demo-kit.md.
//
//   node scripts/build-demo-kit.mjs [--out DIR]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(root, 'assets', 'demo-kit-src');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'assets', 'demo-kit');

export const DATE_TAG = '2026.11.01';
const BUILD_DATE = '2026-11-01T00:00:00Z';
const MTIME = Math.floor(Date.parse(BUILD_DATE) / 1000);
const NS = 'flight/shared-types';

const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  empty: 'application/vnd.oci.empty.v1+json',
  wasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  wasm: 'application/wasm',
  component: 'application/vnd.wasm.component.v1',
  tgz: 'application/tar+gzip',
  json: 'application/json',
  wit: 'application/vnd.flight.wit.v1+text',
  bundle: 'application/vnd.flight.bundle.v1',
  binding: 'application/vnd.flight.binding.v1',
  master: 'application/vnd.flight.manifest.v1+json',
};

/** Platform facts as the seeds state them (the check profiles live in assets/platforms/). */
const PLATFORMS = [
  { id: 'dreamcast', name: 'Sega Dreamcast', memoryLimit: '16MB', cpuThreads: 1 },
  { id: 'vita', name: 'PlayStation Vita', memoryLimit: '512MB', cpuThreads: 3 },
  { id: 'v6r-small', name: 'V6R Small', memoryLimit: '128MB', cpuThreads: 2 },
  { id: 'v6r-medium', name: 'V6R Medium', memoryLimit: '512MB', cpuThreads: 4 },
  { id: 'v6r-large', name: 'V6R Large', memoryLimit: '2GB', cpuThreads: 8 },
];

/** Each module, and the platforms whose bundle includes it (what fits the platform's limits). */
const MODULES = [
  { name: 'memory-validation', platforms: ['dreamcast', 'vita', 'v6r-small', 'v6r-medium', 'v6r-large'] },
  { name: 'error-codes', platforms: ['dreamcast', 'vita', 'v6r-small', 'v6r-medium', 'v6r-large'] },
  { name: 'session-threads', platforms: ['vita', 'v6r-small', 'v6r-medium', 'v6r-large'] },
  { name: 'simd-checksum', platforms: ['vita', 'v6r-small', 'v6r-medium', 'v6r-large'] },
  { name: 'asset-cache', platforms: ['vita', 'v6r-medium', 'v6r-large'] },
];

const STANDARD = {
  'flight.project': 'flight',
  'flight.category': 'shared-types',
  'flight.team': 'shared-types',
  'flight.version': DATE_TAG,
  'flight.build-date': BUILD_DATE,
  'org.opencontainers.image.created': BUILD_DATE,
  'org.opencontainers.image.source': 'https://github.com/birbparty/flight',
};

// --- helpers ------------------------------------------------------------------------------------------

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
/** JSON with sorted keys, 2-space indent: stable bytes for stable digests. */
function canonical(value) {
  const sort = (v) =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort(v[k])]),
          )
        : v;
  return Buffer.from(JSON.stringify(sort(value), null, 2) + '\n');
}

function wat2wasm(file) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-wat-'));
  try {
    const out = path.join(tmp, 'out.wasm');
    execFileSync('wat2wasm', ['--enable-threads', file, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    return readFileSync(out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function wabtVersion() {
  return execFileSync('wat2wasm', ['--version'], { encoding: 'utf8' }).trim();
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return Buffer.from(out);
}

/**
 * A component (binary format version 0x0d, layer 1) holding core modules in core:module sections
 * (section id 1). Enough for a valid component that embeds the basic Flight modules.
 */
function component(coreModules) {
  const parts = [Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])];
  for (const mod of coreModules) parts.push(Buffer.from([0x01]), uleb(mod.length), mod);
  return Buffer.concat(parts);
}

/** A ustar archive with fixed owner, mode and time, entries in the order given (callers sort). */
function tar(entries) {
  const blocks = [];
  const dirs = new Set();
  const header = (name, size, type) => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    h.write(MTIME.toString(8).padStart(11, '0') + '\0', 136, 'ascii');
    h.write('        ', 148, 'ascii');
    h.write(type, 156, 'ascii');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    return h;
  };
  for (const { name, data } of entries) {
    const segs = name.split('/');
    for (let i = 1; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/') + '/';
      if (!dirs.has(dir)) {
        dirs.add(dir);
        blocks.push(header(dir, 0, '5'));
      }
    }
    blocks.push(header(name, data.length, '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tgz(entries) {
  const gz = gzipSync(tar(entries), { level: 9 });
  gz[9] = 3; // OS = Unix whatever zlib was built for: same bytes on every machine
  return gz;
}

// --- build --------------------------------------------------------------------------------------------

export function buildDemoKit(out = OUT) {
  const blobs = new Map();
  const refs = [];
  const addBlob = (buf, mediaType, annotations) => {
    const digest = `sha256:${sha256(buf)}`;
    blobs.set(digest, buf);
    return { mediaType, digest, size: buf.length, ...(annotations ? { annotations } : {}) };
  };
  const emptyConfig = addBlob(Buffer.from('{}'), MT.empty);

  /** Push one artifact manifest, tagged DATE_TAG and latest; returns its descriptor. */
  const artifact = (repo, artifactType, layers, annotations) => {
    const manifest = canonical({
      schemaVersion: 2,
      mediaType: MT.manifest,
      artifactType,
      config: emptyConfig,
      layers,
      annotations: { ...STANDARD, ...annotations },
    });
    const desc = addBlob(manifest, MT.manifest);
    for (const tag of [DATE_TAG, 'latest']) {
      refs.push({ ...desc, annotations: { 'org.opencontainers.image.ref.name': `${NS}/${repo}:${tag}` } });
    }
    return { repository: `${NS}/${repo}`, tag: DATE_TAG, digest: desc.digest, size: desc.size, artifactType };
  };

  const listing = [];
  const wasm = new Map();
  for (const mod of MODULES) {
    const bytes = wat2wasm(path.join(SRC, `flight-${mod.name}.wat`));
    wasm.set(mod.name, bytes);
    const title = `flight-${mod.name}.wasm`;
    listing.push({
      category: 'wasm',
      component: mod.name,
      platforms: mod.platforms,
      ...artifact(`wasm/${mod.name}`, MT.wasmLayer, [addBlob(bytes, MT.wasmLayer, { 'org.opencontainers.image.title': title })], {
        'flight.component': mod.name,
        'flight.wasm.component-model': 'false',
      }),
    });
  }

  const basic = MODULES.filter((m) => m.platforms.includes('dreamcast')).map((m) => m.name);
  const complete = component(basic.map((n) => wasm.get(n)));
  listing.push({
    category: 'wasm',
    component: 'complete',
    platforms: PLATFORMS.map((p) => p.id),
    ...artifact('wasm/complete', MT.component, [addBlob(complete, MT.wasm, { 'org.opencontainers.image.title': 'flight-shared-types-complete.wasm' })], {
      'flight.component': 'complete',
      'flight.wasm.component-model': 'true',
      'flight.wasm.wit-bindgen': 'compatible',
    }),
  });

  const wit = readFileSync(path.join(SRC, 'flight.wit'));
  listing.push({
    category: 'interfaces',
    platforms: PLATFORMS.map((p) => p.id),
    ...artifact('interfaces/wit', MT.wit, [addBlob(wit, MT.wit, { 'org.opencontainers.image.title': 'flight.wit' })], {}),
  });

  for (const p of PLATFORMS) {
    const mods = MODULES.filter((m) => m.platforms.includes(p.id)).map((m) => m.name);
    const platformManifest = canonical({
      platform: p.id,
      name: p.name,
      memoryLimit: p.memoryLimit,
      cpuThreads: p.cpuThreads,
      modules: mods.map((n) => ({ file: `wasm/flight-${n}.wasm`, sha256: sha256(wasm.get(n)) })),
    });
    const runtime = canonical({ platform: p.id, heapReserve: p.id === 'dreamcast' ? '2MB' : '16MB', threads: p.cpuThreads, logLevel: 'info' });
    const entries = [
      { name: `${p.id}/config/runtime.json`, data: runtime },
      { name: `${p.id}/manifest.json`, data: platformManifest },
      ...mods.map((n) => ({ name: `${p.id}/wasm/flight-${n}.wasm`, data: wasm.get(n) })),
      { name: `${p.id}/wit/flight.wit`, data: wit },
    ].sort((a, b) => (a.name < b.name ? -1 : 1));
    listing.push({
      category: 'bundles',
      platforms: [p.id],
      ...artifact(`bundles/${p.id}`, MT.bundle, [addBlob(tgz(entries), MT.tgz, { 'org.opencontainers.image.title': `flight-${p.id}.tar.gz` })], {
        'flight.target-platform': p.id,
        'flight.bundle-type': 'platform-complete',
        'flight.memory-limit': p.memoryLimit,
        'flight.cpu-threads': String(p.cpuThreads),
      }),
    });
  }

  const binding = tgz([
    {
      name: 'typescript/index.d.ts',
      data: Buffer.from('export declare function fits(bytes: number): boolean;\nexport declare function setBudget(bytes: number): void;\n'),
    },
    { name: 'typescript/package.json', data: canonical({ name: '@flight/shared-types', version: '0.1.0', types: 'index.d.ts' }) },
  ]);
  listing.push({
    category: 'bindings',
    platforms: PLATFORMS.map((p) => p.id),
    ...artifact('bindings/typescript', MT.binding, [addBlob(binding, MT.tgz, { 'org.opencontainers.image.title': 'flight-bindings-typescript.tar.gz' })], {
      'flight.language': 'typescript',
      'flight.binding-type': 'source-package',
    }),
  });

  const master = canonical({
    schemaVersion: 1,
    mediaType: MT.master,
    project: 'flight',
    namespace: NS,
    version: DATE_TAG,
    buildDate: BUILD_DATE,
    generator: { tool: 'flightdeck scripts/build-demo-kit.mjs', wabt: wabtVersion() },
    platforms: PLATFORMS.map((p) => ({ ...p, bundle: `${NS}/bundles/${p.id}` })),
    artifacts: listing,
  });
  artifact('manifest', MT.master, [addBlob(master, MT.json, { 'org.opencontainers.image.title': 'manifest.json' })], {});

  // Write to a temp dir beside the target, then swap it in: never a half-written kit.
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = mkdtempSync(path.join(path.dirname(out), '.demo-kit-'));
  mkdirSync(path.join(tmp, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(path.join(tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  for (const [digest, buf] of [...blobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    writeFileSync(path.join(tmp, 'blobs', 'sha256', digest.slice('sha256:'.length)), buf);
  }
  refs.sort((a, b) => (a.annotations['org.opencontainers.image.ref.name'] < b.annotations['org.opencontainers.image.ref.name'] ? -1 : 1));
  writeFileSync(path.join(tmp, 'index.json'), canonical({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: refs }));
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return { out, blobs: blobs.size, refs: refs.length, bytes: [...blobs.values()].reduce((n, b) => n + b.length, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = buildDemoKit();
  console.log(`demo kit: ${r.refs} refs, ${r.blobs} blobs, ${r.bytes} bytes -> ${path.relative(process.cwd(), r.out) || r.out}`);
  console.log(readdirSync(path.join(r.out, 'blobs', 'sha256')).length === r.blobs ? 'ok' : 'blob count mismatch');
}
