import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures.js';
import { ROOT, runCli } from '../support/cli.js';
import { startRegistry } from '../support/registry.js';

// Offline kits through the UI against the real `flightdeck serve`: build a Dreamcast kit from the demo kit
// layout into a folder, verify it, import it into the server's content store, then refuse a tampered copy;
// build a tar kit and push it to a lab registry.
test.describe.configure({ mode: 'serial' });

const SHOTS = 'test-results/e2e-artifacts/screens';
const BUNDLE = 'flight/shared-types/bundles/dreamcast:2026.11.01';

const screen = (page: Page, name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name });

/** Flip one byte of the first layer of the kit's Dreamcast bundle (a blob the lock pins). */
function tamper(kit: string): string {
  const lock = JSON.parse(readFileSync(path.join(kit, 'kit-lock.json'), 'utf8')) as { artifacts: Array<{ ref: string; digest: string }> };
  const blob = (digest: string) => path.join(kit, 'blobs', 'sha256', digest.replace('sha256:', ''));
  const manifest = JSON.parse(readFileSync(blob(lock.artifacts.find((a) => a.ref === BUNDLE)!.digest), 'utf8')) as { layers: Array<{ digest: string }> };
  const layer = manifest.layers[0]!.digest;
  const bytes = readFileSync(blob(layer));
  const at = bytes.length >> 1;
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(blob(layer), bytes);
  return layer;
}

test('build a Dreamcast kit from the demo layout, verify it, import it; a tampered copy is refused with its code and hint', async ({ page, host }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-kit-'));
  const kit = path.join(dir, 'dreamcast-kit');
  await page.goto(host.url);
  await screen(page, 'Offline kits').click();
  await expect(page.getByRole('heading', { name: 'Offline kits', level: 2 })).toBeFocused();

  // Build: the source defaults to the demo kit shipped with the app, by its absolute path.
  await page.getByRole('checkbox', { name: 'Sega Dreamcast' }).check();
  await expect(page.getByLabel('Layout folder')).toHaveValue(path.join(ROOT, 'assets', 'demo-kit'));
  await page.getByLabel('Master manifest tag').fill('2026.11.01');
  await page.getByLabel('Output').fill(kit);
  await page.getByRole('button', { name: 'Build kit' }).click();
  await expect(page.getByTestId('kit-built')).toContainText(kit, { timeout: 15_000 });
  await expect(page.getByTestId('kit-plan')).toContainText(/Plan: \d+ artifacts, [\d.]+ KiB in total/);
  await expect(page.getByRole('progressbar', { name: 'Build progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('kit-artifacts')).toContainText(BUNDLE);
  const lockChecks = page.getByRole('table', { name: 'Platform checks recorded in the lock' });
  await expect(lockChecks.locator('th[scope="rowgroup"]')).toHaveText(/dreamcast\s+Fits/);
  // The kit on disk is what the screen says: the CLI verifies it independently, and its lock pins the bundle.
  const cli = await runCli(['kit', 'verify', kit, '--json'], { env: { FLIGHTDECK_HOME: host.home } });
  expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, lock: true });
  const lock = JSON.parse(readFileSync(path.join(kit, 'kit-lock.json'), 'utf8')) as { platforms: string[]; artifacts: Array<{ ref: string }> };
  expect(lock.platforms).toEqual(['dreamcast']);
  expect(lock.artifacts.map((a) => a.ref)).toContain(BUNDLE);

  // Verify: the built kit's path was handed to the kit field.
  await expect(page.getByLabel('Kit', { exact: true })).toHaveValue(kit);
  await page.getByRole('button', { name: 'Verify' }).click();
  const report = page.getByTestId('kit-report');
  await expect(report.getByRole('status')).toContainText('Kit verified');
  await expect(report).toContainText(/\d+ blobs re-hashed/);
  await expect(report).toContainText('Platform checks re-run for dreamcast: as the lock records');
  await expect(report.getByRole('alert')).toHaveCount(0);

  // Import, then the bundle is in the content store under its kit ref.
  await page.getByRole('button', { name: 'Import' }).click();
  const imported = page.getByTestId('kit-imported');
  await expect(imported.getByRole('status')).toContainText(`Imported ${lock.artifacts.length + 1} refs`);
  await expect(imported).toContainText(BUNDLE);
  await page.screenshot({ path: `${SHOTS}/kits.png`, fullPage: true });
  await screen(page, 'Registries & bundles').click();
  await expect(page.getByTestId('cache-table').locator('code', { hasText: new RegExp(`^${BUNDLE}$`) })).toHaveCount(1);

  // A copy with one flipped byte in a blob: verify names the blob, import refuses and adds nothing.
  const tampered = path.join(dir, 'tampered-kit');
  cpSync(kit, tampered, { recursive: true });
  const layer = tamper(tampered);
  await screen(page, 'Offline kits').click();
  await page.getByLabel('Kit', { exact: true }).fill(tampered);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(report.getByRole('status')).toContainText('Kit refused');
  const mismatch = report.getByRole('alert').filter({ hasText: 'BLOB_DIGEST_MISMATCH' });
  await expect(mismatch).toContainText(layer);
  await expect(mismatch.locator('.hint')).toContainText('damaged or was altered');
  await page.screenshot({ path: `${SHOTS}/kits-tampered.png`, fullPage: true });
  await page.getByRole('button', { name: 'Import' }).click();
  const refused = page.getByRole('alert').filter({ hasText: 'KIT_INVALID' });
  await expect(refused).toContainText('Nothing was imported');
  await expect(refused.locator('.hint')).toContainText('damaged or was altered');
  expect(errors).toEqual([]);
});

test('build a tar kit for two platforms (its kit hash is the sha256 of the file) and push it to a lab registry', async ({ page, host }) => {
  const tar = path.join(mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-kit-')), 'lab.tar');
  const lab = await startRegistry();
  try {
    await page.goto(host.url);
    // In the dark theme this time (the screenshot shows it).
    await screen(page, 'Settings').click();
    await page.getByRole('radio', { name: 'Dark' }).check();
    await screen(page, 'Offline kits').click();
    await page.getByRole('checkbox', { name: 'Sega Dreamcast' }).check();
    await page.getByRole('checkbox', { name: 'PlayStation Vita' }).check();
    await page.getByLabel('Output').fill(tar);
    await page.getByRole('button', { name: 'Build kit' }).click();
    const built = page.getByTestId('kit-built');
    await expect(built).toContainText(`${tar} (tar)`, { timeout: 15_000 });
    const sha = createHash('sha256').update(readFileSync(tar)).digest('hex');
    await expect(built.locator('code[title^="sha256:"]')).toHaveAttribute('title', `sha256:${sha}`);
    await expect(page.getByRole('table', { name: 'Platform checks recorded in the lock' }).locator('th[scope="rowgroup"]')).toHaveText([/dreamcast/, /vita/]);

    await page.getByLabel('Lab registry').fill(lab.host);
    await page.getByRole('button', { name: 'Push to registry' }).click();
    await expect(page.getByTestId('kit-pushed')).toContainText(new RegExp(`Pushed \\d+ refs to ${lab.host}: \\d+ blobs uploaded`));
    await page.screenshot({ path: `${SHOTS}/kits-dark.png`, fullPage: true });
    // Every artifact the screen listed from the lock is in the registry now, under its tag.
    const refs = await page.getByTestId('kit-artifacts').locator('tbody tr td:first-child').allTextContents();
    expect(refs).toEqual(expect.arrayContaining(['flight/shared-types/bundles/dreamcast:2026.11.01', 'flight/shared-types/bundles/vita:2026.11.01']));
    for (const ref of refs) {
      const [repository, tag] = ref.split(':');
      const tags = (await (await fetch(`${lab.url}/v2/${repository}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags, ref).toContain(tag);
    }
  } finally {
    await lab.stop();
  }
});
