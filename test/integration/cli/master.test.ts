import type { MasterManifestInfo } from '../../../core/api/contract.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';
import { tempDir } from '../../support/oci.js';
import { readLayout } from '../../support/oci-layout.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

// The master manifest's listing names each artifact by the repository:tag it is published under, with the
// digest the master pins as a separate field (never a bare digest passed off as a reference). The demo kit's
// master (a Flight master document: artifacts[] of {repository, tag, digest, category, platforms}) is
// published by skopeo to a real docker-registry; an older document that only names references as strings
// is read too.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const VERSION = '2026.11.01';
let registry: TestRegistry;

type Entry = MasterManifestInfo['entries'][number];

beforeAll(async () => {
  registry = await startRegistry();
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${DEMO}:flight/shared-types/manifest:${VERSION}`,
    `docker://${registry.host}/flight/shared-types/manifest:latest`,
  ]);
});
afterAll(async () => {
  await registry?.stop();
});

describe('ls --master', () => {
  it('lists the demo master’s artifacts as host/repository:tag, with the pinned digest, category and platforms beside them', async () => {
    const env = { FLIGHTDECK_HOME: tempHome() };
    const r = await runCli(['ls', registry.host, '--master', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { artifacts: string[]; entries: Entry[] };
    const layout = readLayout(DEMO);
    const digestOf = (repo: string) => layout.refs.find((x) => x.name === `flight/shared-types/${repo}:${VERSION}`)!.digest;
    // Every artifact by repository:tag; no digest stands in for a reference.
    expect(m.artifacts.length).toBeGreaterThanOrEqual(5);
    for (const a of m.artifacts) expect(a).toMatch(new RegExp(`^${registry.host}/flight/shared-types/[a-z0-9/-]+:${VERSION.replaceAll('.', '\\.')}$`));
    expect(m.entries.map((e) => e.reference)).toEqual(m.artifacts);
    expect(m.entries.find((e) => e.repository === 'flight/shared-types/bundles/vita')).toEqual({
      reference: `${registry.host}/flight/shared-types/bundles/vita:${VERSION}`,
      repository: 'flight/shared-types/bundles/vita',
      tag: VERSION,
      digest: digestOf('bundles/vita'),
      category: 'bundles',
      platforms: ['vita'],
    });

    // The human listing: repository:tag first, the pinned digest as secondary text.
    const human = await runCli(['ls', registry.host, '--master'], { env });
    expect(human.code, human.stderr).toBe(0);
    const line = human.stdout.split('\n').find((l) => l.includes('bundles/vita:'))!;
    expect(line.trim()).toMatch(
      new RegExp(`^${registry.host}/flight/shared-types/bundles/vita:${VERSION.replaceAll('.', '\\.')}\\s+bundles\\s+vita\\s+pinned sha256:[0-9a-f]{12}$`),
    );
    expect(human.stdout).not.toMatch(/^\s+\S+\/sha256:/m);
  });

  it('still reads a master document without artifacts[] entries: its reference strings, the digest kept apart, bare digests ignored', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const doc = path.join(tempDir(), 'old-master.json');
    writeFileSync(
      doc,
      JSON.stringify({
        version: '2025.06.06',
        bundles: [`flight/shared-types/bundles/dreamcast:2025.06.06@${digest}`, `${registry.host}/flight/shared-types/wasm/complete@${digest}`],
        checksums: { dreamcast: digest },
      }),
    );
    const env = { FLIGHTDECK_HOME: tempHome() };
    const push = await runCli(['push', `${registry.host}/flight/old/manifest:latest`, `${doc}:application/json`], { env });
    expect(push.code, push.stderr).toBe(0);
    const r = await runCli(['ls', registry.host, '--master', 'flight/old/manifest:latest', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { artifacts: string[]; entries: Entry[] };
    expect(m.entries).toEqual([
      {
        reference: `${registry.host}/flight/shared-types/bundles/dreamcast:2025.06.06`,
        repository: 'flight/shared-types/bundles/dreamcast',
        tag: '2025.06.06',
        digest,
        category: null,
        platforms: [],
      },
      // No tag named: the digest is all there is to reference it by.
      {
        reference: `${registry.host}/flight/shared-types/wasm/complete@${digest}`,
        repository: 'flight/shared-types/wasm/complete',
        tag: null,
        digest,
        category: null,
        platforms: [],
      },
    ]);
    expect(m.artifacts).not.toContain(`${registry.host}/${digest}`);
  });
});
