import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli.js';

const run = promisify(execFile);

/** The demo kit that ships in the app (an OCI layout), its version tag and the repositories it holds under flight/shared-types/. */
export const DEMO_KIT = path.join(ROOT, 'assets', 'demo-kit');
export const DEMO_VERSION = '2026.11.01';
export const DEMO_REFS = [
  'manifest',
  'bundles/dreamcast',
  'bundles/vita',
  'interfaces/wit',
  'bindings/typescript',
  ...['memory-validation', 'error-codes', 'session-threads', 'simd-checksum', 'asset-cache', 'complete'].map((n) => `wasm/${n}`),
];

/**
 * Copy demo-kit repositories (each at DEMO_VERSION) into `host`'s flight/shared-types/ under the tag given,
 * with skopeo, in four lanes: one repository is never written by two copies at once.
 */
export async function seedDemoKit(host: string, copies: Array<[ref: string, tag: string]> = DEMO_REFS.map((r) => [r, DEMO_VERSION])): Promise<void> {
  const lanes = [...new Set(copies.map(([r]) => r))];
  await Promise.all(
    [0, 1, 2, 3].map(async (lane) => {
      for (const [r, tag] of copies.filter(([r]) => lanes.indexOf(r) % 4 === lane)) {
        await run('skopeo', [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          `oci:${DEMO_KIT}:flight/shared-types/${r}:${DEMO_VERSION}`,
          `docker://${host}/flight/shared-types/${r}:${tag}`,
        ]);
      }
    }),
  );
}
