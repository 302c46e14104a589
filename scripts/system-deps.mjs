#!/usr/bin/env node
// The system tools the test suite uses, with the Debian/Ubuntu package that provides each. One list for
// `npm test` (which installs what is missing when it runs as root on Debian/Ubuntu, or prints the exact
// command otherwise) and for .ci/run.
//
//   node scripts/system-deps.mjs            report missing tools; exit 1 if any
//   node scripts/system-deps.mjs --install  apt-get install the missing ones (root, Debian/Ubuntu)
//   node scripts/system-deps.mjs --list-missing  print the missing apt packages on one line
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** tool on PATH (or absolute path) -> apt package */
export const SYSTEM_TOOLS = [
  ['docker-registry', 'docker-registry'],
  ['skopeo', 'skopeo'],
  ['htpasswd', 'apache2-utils'],
  ['socat', 'socat'],
  ['udevadm', 'udev'],
  ['gnome-keyring-daemon', 'gnome-keyring'],
  ['dbus-run-session', 'dbus-daemon'],
  ['dbus-launch', 'dbus-x11'],
  ['dbus-send', 'dbus-bin'],
  ['dbus-daemon', 'dbus-daemon'],
  ['secret-tool', 'libsecret-tools'],
  ['/usr/include/libsecret-1/libsecret/secret.h', 'libsecret-1-dev'],
  ['/usr/bin/chromium', 'chromium'],
  ['wat2wasm', 'wabt'],
  ['wasm-opt', 'binaryen'],
  ['tar', 'tar'],
  ['openssl', 'openssl'],
  // test/integration/cli/registries.test.ts: the lab's forward proxy (CONNECT and plain-http, with auth).
  ['tinyproxy', 'tinyproxy'],
  // bench/ (peak RSS of each run): GNU time, not the shell keyword.
  ['/usr/bin/time', 'time'],
  // test/conformance/device.py: the second, independent protocol device (standard library only).
  ['python3', 'python3'],
];

function onPath(tool) {
  if (tool.startsWith('/')) return existsSync(tool);
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((d) => d && existsSync(path.join(d, tool)));
}

export function missingPackages() {
  return [...new Set(SYSTEM_TOOLS.filter(([tool]) => !onPath(tool)).map(([, pkg]) => pkg))];
}

export function installCommand(pkgs) {
  return `sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

/** Install what is missing when we can (root + apt), else print the exact command. Returns true when all present. */
export function ensureSystemDeps({ install }) {
  const missing = missingPackages();
  if (missing.length === 0) return true;
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  if (!install || !canApt) {
    console.error(`Missing system packages: ${missing.join(' ')}`);
    console.error(`Install them with:\n  ${installCommand(missing)}`);
    return false;
  }
  console.log(`Installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  const inst = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (!inst || inst.status !== 0) {
    console.error(`apt-get failed; install manually:\n  ${installCommand(missing)}`);
    return false;
  }
  return missingPackages().length === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--list-missing')) {
    console.log(missingPackages().join(' '));
  } else {
    process.exit(ensureSystemDeps({ install: process.argv.includes('--install') }) ? 0 : 1);
  }
}
