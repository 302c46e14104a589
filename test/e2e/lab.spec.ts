import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, ROOT } from './fixtures.js';
import { runCli } from '../support/cli.js';
import { activePayload, spawnEmulator, stateDir, type EmulatorProcess } from '../support/emulator.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { codeModule } from '../support/wasm.js';
import type { LabLockResult } from '../../core/lab/schema.js';

// The Lab screen in a real browser against the real `flightdeck serve`: a docker-registry holding the demo
// kit's Vita and Dreamcast bundles (copied by skopeo), two `flightdeck emulate` kits (Vita, Dreamcast) and a
// lab file pinning what each should run. Both kits are flashed by `lab deploy`, then the Vita kit is
// re-flashed by hand with another module: the screen shows it drifted with what it runs instead,
// "Bring into sync" flashes it back with live progress, and it reads in sync — checked against the bytes in
// the emulator's slot. On the Receipts screen every receipt names its module, its source by
// repository:tag@digest, the slot with the device's hash, and the lab file and lab device it was flashed for.
const SHOTS = 'test-results/e2e-artifacts/screens';
const KIT = path.join(ROOT, 'assets', 'demo-kit');
const TAG = '2026.11.01';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let registry: TestRegistry | undefined;
const kits: Array<{ name: string; proc: EmulatorProcess; dir: string }> = [];
test.afterAll(async () => {
  await Promise.all(kits.map((k) => k.proc.stop()));
  await registry?.stop();
});

const screen = (page: Page, name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name });
const labRow = (page: Page, name: string) => page.getByTestId('lab-table').locator(`tr[data-device="${name}"]`);

test('a kit re-flashed by hand shows drifted with what it runs; “Bring into sync” flashes it back; its receipts name module, repo:tag@digest and the lab', async ({
  page,
  host,
}) => {
  test.setTimeout(90_000);
  registry = await startRegistry();
  for (const p of ['vita', 'dreamcast']) {
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${KIT}:flight/shared-types/bundles/${p}:latest`,
      `docker://${registry.host}/flight/shared-types/bundles/${p}:${TAG}`,
    ]);
  }
  for (const [name, platform] of [
    ['lab-vita-01', 'vita'],
    ['lab-dc-01', 'dreamcast'],
  ] as const) {
    const dir = stateDir();
    const proc = await spawnEmulator(['--platform', platform, '--listen', 'tcp://127.0.0.1:0', '--state', dir, '--name', name], { FLIGHTDECK_HOME: host.home });
    kits.push({ name, proc, dir });
  }
  const [vita, dc] = kits as [(typeof kits)[0], (typeof kits)[0]];
  const work = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-lab-'));
  const lab = path.join(work, 'flightdeck.lab.yaml');
  writeFileSync(
    lab,
    `# the e2e bench
source: ${registry.host}/flight/shared-types
bundles:
  vita: { tag: "${TAG}" }
  dreamcast: { tag: "${TAG}" }
devices:
  - { name: vita-01, uri: "${vita.proc.uri}", platform: vita, module: flight-memory-validation }
  - { name: dc-01, uri: "${dc.proc.uri}", platform: dreamcast }
`,
  );
  // The lab lead's CLI, on the same data folder as the window: lock, flash both kits, then one kit is
  // re-flashed by hand with something else.
  const env = { FLIGHTDECK_HOME: host.home };
  const locking = await runCli(['lab', 'lock', '--lab', lab, '--json'], { env, timeoutMs: 60_000 });
  expect(locking.code, locking.stderr).toBe(0);
  const locked = JSON.parse(locking.stdout) as LabLockResult;
  const lock = locked.content;
  const want = lock.bundles.vita!.payloads['flight-memory-validation']!.sha256;
  const flashed = await runCli(['lab', 'deploy', '--lab', lab, '--json'], { env, timeoutMs: 60_000 });
  expect(flashed.code, flashed.stderr).toBe(0);
  expect(sha256(activePayload(vita.dir)!)).toBe(want);
  const hand = path.join(work, 'bench-probe.wasm');
  writeFileSync(hand, codeModule(12, 77));
  const byHand = await runCli(['deploy', hand, '--device', vita.proc.uri, '--json'], { env, timeoutMs: 60_000 });
  expect(byHand.code, byHand.stderr).toBe(0);
  expect(sha256(activePayload(vita.dir)!)).not.toBe(want);

  await page.goto(host.url);
  await screen(page, 'Lab').click();
  await expect(page.getByRole('heading', { name: 'Lab', level: 2 })).toBeFocused();
  await page.getByLabel('Lab file').fill(lab);
  await page.getByRole('button', { name: 'Open' }).click();

  // Drifted, with what it runs instead (from the hand deploy's receipt); the other kit in sync.
  const row = labRow(page, 'vita-01');
  await expect(row).toHaveAttribute('data-state', 'drifted', { timeout: 15_000 });
  await expect(row).toContainText('drifted');
  await expect(row).toContainText('bench-probe.wasm');
  await expect(row.locator('td').nth(3).locator('code')).toHaveAttribute('title', want);
  await expect(row.locator('td').nth(3)).toContainText(lock.bundles.vita!.payloads['flight-memory-validation']!.file);
  await expect(labRow(page, 'dc-01')).toHaveAttribute('data-state', 'in-sync');
  await expect(page.getByText(/1 in sync · 1 drifted · 0 offline · 0 unknown/)).toBeVisible();
  await expect(labRow(page, 'dc-01').getByRole('button', { name: 'Bring into sync' })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/lab-drifted.png`, fullPage: true });

  await row.getByRole('button', { name: 'Bring into sync' }).click();
  await expect(row).toContainText('✔ done', { timeout: 30_000 });
  await expect(row).toHaveAttribute('data-state', 'in-sync', { timeout: 15_000 });
  await expect(row.locator('td').nth(2)).toHaveText('in sync');
  await expect(page.getByText(/2 in sync · 0 drifted · 0 offline · 0 unknown/)).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  // The kit itself holds the locked module again.
  expect(sha256(activePayload(vita.dir)!)).toBe(want);
  await page.screenshot({ path: `${SHOTS}/lab-in-sync.png`, fullPage: true });

  // The receipts of the kit, newest first: that flash, the hand deploy, the first lab deploy. Each names the
  // module, the source by repository:tag@digest (the tag the lab file asked for, the digest its lock pins),
  // the slot with the device's own hash, and the lab file and lab device it was flashed for.
  await screen(page, 'Receipts').click();
  const table = page.getByTestId('receipts-table');
  const vitaReceipts = table.locator(`tr[data-device="${vita.proc.uri}"]`);
  await expect(vitaReceipts).toHaveCount(3);
  const vitaRef = `${registry.host}/flight/shared-types/bundles/vita:${TAG}@${lock.bundles.vita!.digest}`;
  for (const i of [0, 2]) {
    const receipt = vitaReceipts.nth(i);
    await expect(receipt.locator('td[data-col="module"] strong')).toHaveText('flight-memory-validation');
    await expect(receipt.locator('td[data-col="module"] code')).toHaveAttribute('title', want);
    await expect(receipt.locator('td[data-col="source"] [data-reference]')).toHaveAttribute('data-reference', vitaRef);
    await expect(receipt.locator('td[data-col="source"]')).toContainText(`flight/shared-types/bundles/vita:${TAG}`);
    await expect(receipt.locator('td[data-col="lab"]')).toContainText('flightdeck.lab.yaml · vita-01');
    await expect(receipt.locator('td[data-col="lab"] span[title]')).toHaveAttribute('title', lab);
    await expect(receipt.locator('td[data-col="lab"] code')).toHaveAttribute('title', locked.lockDigest);
    await expect(receipt.locator('td[data-col="slot"] code')).toHaveAttribute('title', want);
    await expect(receipt.locator('td[data-col="slot"]')).toContainText('✓ matches');
  }
  // The hand deploy between them: a local file, no lab.
  const byHandRow = vitaReceipts.nth(1);
  await expect(byHandRow.locator('td[data-col="module"] strong')).toHaveText('bench-probe');
  await expect(byHandRow.locator('td[data-col="source"]')).toHaveText('local file');
  await expect(byHandRow.locator('td[data-col="lab"]')).toHaveText('—');
  // The Dreamcast kit's receipt: the bundle's first module (the lab names none), from the Dreamcast bundle.
  const dcReceipt = table.locator(`tr[data-device="${dc.proc.uri}"]`);
  await expect(dcReceipt).toHaveCount(1);
  const dcPayload = lock.bundles.dreamcast!.payloads['']!;
  await expect(dcReceipt.locator('td[data-col="module"] strong')).toHaveText(path.posix.basename(dcPayload.file, '.wasm'));
  await expect(dcReceipt.locator('td[data-col="source"] [data-reference]')).toHaveAttribute(
    'data-reference',
    `${registry.host}/flight/shared-types/bundles/dreamcast:${TAG}@${lock.bundles.dreamcast!.digest}`,
  );
  await expect(dcReceipt.locator('td[data-col="lab"]')).toContainText('flightdeck.lab.yaml · dc-01');
  await expect(dcReceipt.locator('td[data-col="slot"] code')).toHaveAttribute('title', dcPayload.sha256);
  await page.screenshot({ path: `${SHOTS}/receipts-lab.png`, fullPage: true });

  // The detail of the newest: the canonical source and the Lab section (file, lab device, lock digest).
  await vitaReceipts.first().getByRole('button').click();
  const detail = page.getByTestId('receipt-detail');
  const field = (name: string) => detail.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('+ dd');
  await expect(field('Module')).toHaveText('flight-memory-validation');
  await expect(field('Canonical')).toHaveText(vitaRef);
  await expect(field('Manifest digest')).toHaveText(lock.bundles.vita!.digest);
  await expect(field('Lab file')).toHaveText(lab);
  await expect(field('Device in the lab')).toHaveText('vita-01');
  await expect(field('Lock digest')).toHaveText(locked.lockDigest);
  await expect(field('Slot hash')).toHaveText(want);
});
