/**
 * Issue 21: the desktop package installs on a clean machine without a compiler. The app's native modules
 * are Node-API builds (ABI-stable across Node and Electron), so electron-builder must not rebuild them
 * for Electron (npmRebuild: false), and each one must load a prebuilt binary for every release target
 * rather than compile from source at install time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_ADAPTERS, udevRules } from '../../../core/deploy/adapters.js';
import { appBaseDir } from '../../../electron/main/security.js';
import { ROOT } from '../../support/cli.js';

const UDEV_RULES = 'assets/linux/70-flightdeck.rules';

interface Pkg {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  gypfile?: boolean;
  binary?: { napi_versions?: number[] };
}

const config = parse(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Pkg;

/** Release targets (electron-builder.yml: linux deb x64/arm64, mac x64 and arm64, win x64) as prebuilds/ folder names. */
const TARGETS: Array<[string, RegExp]> = [
  ['linux-x64', /^linux-x64$/],
  ['linux-arm64', /^linux-arm64$/],
  ['darwin-x64', /^darwin-(x64|x64\+arm64)$/],
  ['darwin-arm64', /^darwin-(arm64|x64\+arm64)$/],
  ['win32-x64', /^win32-x64$/],
];

/**
 * Optional native modules the app can do without: when their install cannot fetch a prebuilt binary (and
 * would compile), npm skips them and the app uses the named fallback. Nothing else may compile.
 */
const OPTIONAL_WITH_FALLBACK: Record<string, string> = {
  keytar: '@napi-rs/keyring (native-bridge/keychain: keytar first, then @napi-rs/keyring)',
};

/** Node resolution of `name` from the package folder `from`. */
function resolve(name: string, from: string): string | undefined {
  for (let dir = from; dir.startsWith(ROOT); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT) break;
  }
  return undefined;
}

/** Every installed package the app ships: dependencies and optionalDependencies, transitively. */
function productionClosure(): Map<string, { dir: string; pkg: Pkg }> {
  const seen = new Map<string, { dir: string; pkg: Pkg }>();
  const queue: Array<[string, string]> = Object.keys({ ...root.dependencies, ...root.optionalDependencies }).map((n) => [n, ROOT]);
  while (queue.length) {
    const [name, from] = queue.shift()!;
    const dir = resolve(name, from);
    if (!dir || seen.has(dir)) continue; // an optional dependency for another platform is not installed
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Pkg;
    seen.set(dir, { dir, pkg });
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) queue.push([dep, dir]);
  }
  return seen;
}

function isNative(dir: string, pkg: Pkg): boolean {
  const install = `${pkg.scripts?.preinstall ?? ''} ${pkg.scripts?.install ?? ''} ${pkg.scripts?.postinstall ?? ''}`;
  return existsSync(path.join(dir, 'binding.gyp')) || pkg.gypfile === true || /node-gyp|prebuild-install|node-pre-gyp|cmake-js/.test(install);
}

/** Why this native package would compile from source on a clean machine, or undefined when it would not. */
function compilesFromSource(dir: string, pkg: Pkg): string | undefined {
  const install = pkg.scripts?.install ?? '';
  if (!pkg.binary?.napi_versions && !pkg.dependencies?.['node-addon-api']) return 'not a Node-API module (its binary is tied to one Node/Electron ABI)';
  if (OPTIONAL_WITH_FALLBACK[pkg.name] && root.optionalDependencies?.[pkg.name]) return undefined;
  if (install.trim() !== 'node-gyp-build') return `install script ${JSON.stringify(install)} builds unless a download works`;
  const prebuilds = existsSync(path.join(dir, 'prebuilds')) ? readdirSync(path.join(dir, 'prebuilds')) : [];
  const missing = TARGETS.filter(([, re]) => !prebuilds.some((p) => re.test(p))).map(([t]) => t);
  return missing.length ? `no prebuilt binary for ${missing.join(', ')}` : undefined;
}

describe('native dependencies of the desktop package (issue 21)', () => {
  it('electron-builder does not rebuild native modules for Electron (they are Node-API builds)', () => {
    expect(config.npmRebuild).toBe(false);
    expect(config.buildDependenciesFromSource ?? false).toBe(false);
    expect(config.nodeGypRebuild ?? false).toBe(false);
  });

  it('no native dependency compiles from source: each ships Node-API prebuilds for every release target', () => {
    const natives = [...productionClosure().values()].filter(({ dir, pkg }) => isNative(dir, pkg));
    expect(natives.map((n) => n.pkg.name).sort()).toEqual(expect.arrayContaining(['@serialport/bindings-cpp', 'usb']));
    const problems = natives.flatMap(({ dir, pkg }) => {
      const why = compilesFromSource(dir, pkg);
      return why ? [`${pkg.name}@${pkg.version}: ${why}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('the check is not vacuous: a gyp module without prebuilds, or with a build install script, is caught', () => {
    const dir = path.join(ROOT, 'node_modules', 'usb');
    expect(
      compilesFromSource('/nonexistent', { name: 'x', version: '1', gypfile: true, binary: { napi_versions: [8] }, scripts: { install: 'node-gyp-build' } }),
    ).toMatch(/no prebuilt binary for linux-x64/);
    expect(
      compilesFromSource(dir, { name: 'x', version: '1', gypfile: true, binary: { napi_versions: [8] }, scripts: { install: 'node-gyp rebuild' } }),
    ).toMatch(/builds unless/);
    expect(compilesFromSource(dir, { name: 'x', version: '1', gypfile: true, scripts: { install: 'node-gyp-build' } })).toMatch(/not a Node-API module/);
  });

  it('@napi-rs/keyring has a prebuilt package per release target (one per arch, no compile)', () => {
    const keyring = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@napi-rs/keyring/package.json'), 'utf8')) as Pkg;
    const per = Object.keys(keyring.optionalDependencies ?? {});
    for (const t of ['linux-x64-gnu', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']) expect(per).toContain(`@napi-rs/keyring-${t}`);
  });
});

describe('the Linux package (issue 21)', () => {
  const deb = config.deb as { depends: string[]; fpm: string[] };

  it("deb.depends keeps electron-builder's defaults (setting it replaces them) and adds libsecret and udev", () => {
    // app-builder-lib's FpmTarget.getDefaultDepends('deb'), read from the installed electron-builder.
    const source = readFileSync(path.join(ROOT, 'node_modules/app-builder-lib/out/targets/FpmTarget.js'), 'utf8');
    const list = /case "deb":\s*return \[([^\]]+)\]/.exec(source)?.[1];
    expect(list).toBeDefined();
    const defaults = [...list!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    expect(defaults).toContain('libgtk-3-0');
    expect(deb.depends).toEqual(expect.arrayContaining([...defaults, 'libsecret-1-0', 'udev']));
  });

  it('the .deb is the primary Linux target and ships the udev rules of the known adapters, generated from them (`npm run assets:udev`)', () => {
    const targets = (config.linux as { target: Array<{ target: string }> }).target.map((t) => t.target);
    expect(targets[0]).toBe('deb');
    expect(deb.fpm).toContain(`${UDEV_RULES}=/usr/lib/udev/rules.d/70-flightdeck.rules`);
    const rules = readFileSync(path.join(ROOT, UDEV_RULES), 'utf8');
    expect(rules).toBe(udevRules());
    for (const a of KNOWN_ADAPTERS) {
      expect(rules).toContain(`SUBSYSTEM=="tty", ATTRS{idVendor}=="${a.vendorId}", ATTRS{idProduct}=="${a.productId}", TAG+="uaccess"`);
    }
    // Every rule line is a match and an assignment udev understands; uaccess needs a number below 73.
    for (const line of rules.split('\n').filter((l) => l && !l.startsWith('#')))
      expect(line).toMatch(/^SUBSYSTEM=="(usb|tty)", (ATTRS?\{id(Vendor|Product)\}=="[0-9a-f]{4}", ){2}TAG\+="uaccess"$/);
  });
});

describe('relative oci: paths in the desktop app resolve against the app (issue 21)', () => {
  it('the api worker runs in the app folder: app.asar.unpacked when packaged (where the demo kit is unpacked), the repository from sources', () => {
    expect(appBaseDir('/Applications/Flight Deck.app/Contents/Resources/app.asar', true)).toBe(
      '/Applications/Flight Deck.app/Contents/Resources/app.asar.unpacked',
    );
    expect(appBaseDir('/opt/Flight Deck/resources/app.asar', true)).toBe('/opt/Flight Deck/resources/app.asar.unpacked');
    expect(appBaseDir(ROOT, false)).toBe(ROOT);
    expect(readFileSync(path.join(ROOT, 'electron/main/main.ts'), 'utf8')).toMatch(
      /utilityProcess\.fork\(workerPath, \[\], \{[^}]*cwd: appBaseDir\(app\.getAppPath\(\), app\.isPackaged\)/,
    );
    expect(config.asarUnpack).toContain('assets/demo-kit/**');
  });

  it('the oci: path docs/desktop.md gives exists under the app folder', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/desktop.md'), 'utf8');
    const dirs = [...doc.matchAll(/`oci:([^:`]+\/[^:`]+):/g)].map((m) => m[1]!);
    expect(dirs).toContain('assets/demo-kit');
    for (const dir of dirs) expect(existsSync(path.join(appBaseDir(ROOT, false), dir, 'index.json')), dir).toBe(true);
  });
});
