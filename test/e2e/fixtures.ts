import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, type Page } from '@playwright/test';
import { startKeyring } from '../support/keyring.js';
import { startRegistry } from '../support/registry.js';
import { startServe } from '../support/serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WebHostFixture {
  /** The URL `flightdeck serve` printed (with its session token). */
  url: string;
  origin: string;
  token: string;
  home: string;
  /** Everything the serve process printed so far. */
  output(): string;
}

export interface RegistryFixture {
  /** host:port of a real docker-registry that requires a password. */
  host: string;
  username: string;
  password: string;
}

export const REGISTRY_USER = 'pilot';
/** Random per run, so finding it anywhere in the page or output is a real leak. */
export const REGISTRY_PASSWORD = `fd-${Math.random().toString(36).slice(2)}-secret`;

/**
 * Each worker starts, for real: a private gnome-keyring on its own D-Bus, `flightdeck serve` (built dist/)
 * using that keyring and a private FLIGHTDECK_HOME, and (when a test asks for it) a docker-registry with
 * htpasswd auth holding the demo kit's bundles and master manifest, published by skopeo.
 */
export const test = base.extend<{ page: Page }, { host: WebHostFixture; keyringEnv: NodeJS.ProcessEnv; registry: RegistryFixture }>({
  // Every page of every test: an uncaught error in the renderer (a Svelte runtime error such as a duplicate
  // each key, an unhandled rejection) fails the test that caused it, whatever the test itself looks at.
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${e.message}\n${e.stack ?? ''}`));
    await use(page);
    if (errors.length) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
  },
  keyringEnv: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const keyring = await startKeyring();
      await use(keyring.env);
      await keyring.stop();
    },
    { scope: 'worker' },
  ],
  host: [
    async ({ keyringEnv }, use) => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-'));
      const serve = await startServe({
        FLIGHTDECK_HOME: home,
        DBUS_SESSION_BUS_ADDRESS: keyringEnv.DBUS_SESSION_BUS_ADDRESS,
        XDG_RUNTIME_DIR: keyringEnv.XDG_RUNTIME_DIR,
        // No credentials from the machine running the tests.
        DOCKER_CONFIG: path.join(home, 'docker'),
      });
      await use({ url: serve.url, origin: serve.origin, token: serve.token, home, output: serve.output });
      await serve.stop();
    },
    { scope: 'worker' },
  ],
  registry: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const htpasswd = execFileSync('htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD]).toString();
      const registry = await startRegistry({ htpasswd });
      const kit = path.join(ROOT, 'assets', 'demo-kit');
      for (const ref of ['bundles/vita', 'bundles/dreamcast', 'manifest']) {
        for (const tag of ['2026.11.01', 'latest']) {
          execFileSync('skopeo', [
            'copy',
            '--quiet',
            '--dest-tls-verify=false',
            `--dest-creds=${REGISTRY_USER}:${REGISTRY_PASSWORD}`,
            `oci:${kit}:flight/shared-types/${ref}:latest`,
            `docker://${registry.host}/flight/shared-types/${ref}:${tag}`,
          ]);
        }
      }
      await use({ host: registry.host, username: REGISTRY_USER, password: REGISTRY_PASSWORD });
      await registry.stop();
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
export { ROOT };
