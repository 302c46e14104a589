import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, ROOT } from './fixtures.js';
import { activePayload, readSlots, spawnEmulator, stateDir, type EmulatorProcess } from '../support/emulator.js';

// "Deploy to many" and the Receipts screen in a real browser against the real `flightdeck serve`: three
// `flightdeck emulate` processes (two Vita kits, one Dreamcast kit) get the demo kit's Vita bundle in one
// fleet deploy; the Dreamcast kit fails on its own row with DEVICE_PLATFORM_MISMATCH, the two others
// commit. The Receipts screen then lists exactly the two receipts, and the hash each device reported is
// cross-checked against the bytes in the emulators' slot directories.
const SHOTS = 'test-results/e2e-artifacts/screens';
const KIT = `oci:${path.join(ROOT, 'assets', 'demo-kit')}`;
const BUNDLE = `${KIT}:flight/shared-types/bundles/vita:latest`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const kits: Array<{ proc: EmulatorProcess; dir: string; platform: string }> = [];
test.afterAll(async () => {
  await Promise.all(kits.map((k) => k.proc.stop()));
});

const deviceRow = (page: Page, uri: string) => page.getByTestId('devices-table').locator(`tr[data-uri="${uri}"]`);
const fleetRow = (page: Page, uri: string) => page.getByTestId('fleet-table').locator(`tr[data-device="${uri}"]`);
const receiptRows = (page: Page, uri: string) => page.getByTestId('receipts-table').locator(`tr[data-device="${uri}"]`);

test('deploy one bundle to three kits from the UI: two commit, the other platform fails with its code; the receipts match the slots', async ({
  page,
  host,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  for (const [name, platform] of [
    ['fleet-vita-1', 'vita'],
    ['fleet-vita-2', 'vita'],
    ['fleet-dreamcast', 'dreamcast'],
  ] as const) {
    const dir = stateDir();
    const proc = await spawnEmulator(['--platform', platform, '--listen', 'tcp://127.0.0.1:0', '--state', dir, '--name', name], { FLIGHTDECK_HOME: host.home });
    kits.push({ proc, dir, platform });
  }
  const [vita1, vita2, dreamcast] = kits as [(typeof kits)[0], (typeof kits)[0], (typeof kits)[0]];

  await page.goto(host.url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Devices' }).click();
  for (const k of kits) await expect(deviceRow(page, k.proc.uri)).toContainText(k.platform, { timeout: 5000 });

  await page.getByRole('button', { name: 'Deploy to many' }).click();
  for (const k of kits) await page.getByLabel(`Deploy to ${k.proc.name}`).check();
  await page.getByLabel('Payload', { exact: true }).fill(BUNDLE);
  await page.getByLabel('Payload', { exact: true }).dispatchEvent('change');
  await page.getByLabel('Module', { exact: true }).selectOption('flight-memory-validation');
  await page.getByRole('button', { name: 'Deploy to 3 devices' }).click();

  await expect(page.locator('form.fleet').getByRole('status')).toContainText('2 succeeded, 1 failed', { timeout: 15_000 });
  for (const k of [vita1, vita2]) {
    await expect(fleetRow(page, k.proc.uri)).toContainText('✓ committed, slot A');
    await expect(fleetRow(page, k.proc.uri).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  }
  const failed = fleetRow(page, dreamcast.proc.uri);
  await expect(failed).toContainText('DEVICE_PLATFORM_MISMATCH');
  await expect(failed).toContainText('is a dreamcast device');
  await expect(failed.locator('.hint')).not.toBeEmpty();
  await page.screenshot({ path: `${SHOTS}/fleet.png`, fullPage: true });

  // On the kits' disks: the two Vita kits hold the same payload, the Dreamcast kit nothing.
  const payload = activePayload(vita1.dir)!;
  expect(payload.subarray(0, 4)).toEqual(Buffer.from('\0asm'));
  expect(activePayload(vita2.dir)).toEqual(payload);
  expect(readSlots(dreamcast.dir).active).toBeNull();
  const onDisk = sha256(payload);

  // Receipts: one per committed kit, the device's own hash equal to the bytes in its slot.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Receipts' }).click();
  await expect(page.getByRole('heading', { name: 'Receipts', level: 2 })).toBeVisible();
  for (const k of [vita1, vita2]) {
    const r = receiptRows(page, k.proc.uri);
    await expect(r).toHaveCount(1);
    await expect(r).toContainText('✓ matches');
    await expect(r).toContainText('vita');
    await expect(r).toContainText('flight/shared-types/bundles/vita:latest');
    await expect(r.locator('td[data-col="module"]')).toContainText('flight-memory-validation');
    await expect(r.locator('td[data-col="module"] code')).toHaveAttribute('title', onDisk);
    await expect(r.locator('td[data-col="slot"] code')).toHaveAttribute('title', sha256(activePayload(k.dir)!));
  }
  await expect(receiptRows(page, dreamcast.proc.uri)).toHaveCount(0);

  // Filter by device, then the whole chain of one receipt.
  await page.getByLabel('Device').selectOption(vita2.proc.uri);
  await expect(page.getByTestId('receipts-table').locator('tr[data-receipt]')).toHaveCount(1);
  await receiptRows(page, vita2.proc.uri).getByRole('button').click();
  const detail = page.getByTestId('receipt-detail');
  await expect(detail).toContainText(/sha256:[0-9a-f]{64}/);
  await expect(detail).toContainText(onDisk);
  await expect(detail).toContainText(vita2.proc.uri);
  await expect(detail.locator('dd.ok-text')).toHaveText('yes');
  await page.screenshot({ path: `${SHOTS}/receipts.png`, fullPage: true });
  expect(errors).toEqual([]);
});
