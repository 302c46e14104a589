import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, ROOT, type WebHostFixture } from './fixtures.js';
import { resolvePaths } from '../../core/config/paths.js';
import { activePayload, readSlots, spawnEmulator, stateDir, type EmulatorProcess } from '../support/emulator.js';
import { codeModule, helloModule, withCustomSection } from '../support/wasm.js';

// The Devices screen in a real browser against the real `flightdeck serve`: a Vita kit started with the
// screen's own button (the reference emulator inside serve), a Dreamcast kit as a separate `flightdeck
// emulate` process (it holds an upload part-way until the host gives up, so a deploy is surely cancelled
// mid-upload), payloads from a .wasm file and from the demo kit's OCI layout; what the page shows is
// cross-checked on the emulators' slot directories.
test.describe.configure({ mode: 'serial' });

/**
 * For UI state that arrives only after real processes did their work (a deploy, a payload started in a
 * node process, the device list's probe every 2 s): Playwright polls the page's state and goes on as
 * soon as it is there, so this is a wait on the event; the bound only ends a hung test, and is long
 * enough for a loaded 2-core machine (the default 5 s is not).
 */
const PROCESS_WAIT = { timeout: 30_000 };

const SHOTS = 'test-results/e2e-artifacts/screens';
const KIT = `oci:${path.join(ROOT, 'assets', 'demo-kit')}`;
const HELLO = helloModule('hello from the e2e kit\n', 0);
const work = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-devices-'));
const file = (name: string, bytes: Buffer) => {
  const p = path.join(work, name);
  writeFileSync(p, bytes);
  return p;
};

let dreamcast: EmulatorProcess | undefined;
const dreamcastDir = stateDir();
test.afterAll(async () => {
  await dreamcast?.stop();
});

async function openDevices(page: Page, host: WebHostFixture) {
  const received: string[] = [];
  const errors: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(String(f.payload))));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(host.url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Devices' }).click();
  await expect(page.getByRole('heading', { name: 'Devices', level: 2 })).toBeFocused();
  return { received, errors };
}

const row = (page: Page, uri: string) => page.getByTestId('devices-table').locator(`tr[data-uri="${uri}"]`);
const slot = (page: Page, s: 'A' | 'B') => page.getByTestId('slots').locator(`tr[data-slot="${s}"]`);

/** Name the payload (committing the field lists a bundle's modules), pick the module from the bundle's own list. */
async function deploy(page: Page, payload: string, opts: { module?: string; run: boolean }) {
  const field = page.getByLabel('Payload', { exact: true });
  await field.fill(payload);
  await field.dispatchEvent('change');
  await expect(page.getByText("Reading the bundle's modules…")).toHaveCount(0, PROCESS_WAIT);
  if (opts.module) await page.getByLabel('Module', { exact: true }).selectOption(opts.module);
  await page.getByLabel('Run after commit').setChecked(opts.run);
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
}

test('start a local Vita emulator, deploy and run a payload with progress and its log, deploy a second, roll back', async ({ page, host }) => {
  test.setTimeout(180_000);
  const { received, errors } = await openDevices(page, host);
  await page.getByLabel('Platform').selectOption('vita');
  await page.getByRole('button', { name: 'Start local emulator' }).click();
  const running = page.getByRole('status').filter({ hasText: 'Running local-vita' });
  await expect(running).toBeVisible(PROCESS_WAIT);
  const uri = (await running.locator('code').textContent())!;
  expect(uri).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  // Listed by devices.list, and opened.
  await expect(row(page, uri)).toContainText('emulator', PROCESS_WAIT);
  await expect(row(page, uri)).toContainText('vita');
  await expect(row(page, uri).getByRole('button', { name: 'local-vita' })).toHaveAttribute('aria-current', 'true');
  const dir = path.join(resolvePaths({ FLIGHTDECK_HOME: host.home }).data, 'emulators', 'local-vita');

  // 1. A WASI payload from a file, run after commit: progress, its output in the console, slot A active.
  await deploy(page, file('hello.wasm', HELLO), { run: true });
  await expect(page.getByRole('status').filter({ hasText: 'Committed to slot A' })).toContainText('payload exited with code 0', PROCESS_WAIT);
  await expect(page.getByRole('progressbar', { name: 'Deploy progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.locator('.progress-text')).toContainText(`${HELLO.length} B / ${HELLO.length} B`);
  await expect(page.locator('.progress-text')).toContainText('0 retries');
  expect(received.some((f) => f.includes('"type":"progress"') && f.includes(`"total":${HELLO.length}`))).toBe(true);
  await expect(page.getByRole('log', { name: 'Kit log' })).toContainText('stdout hello from the e2e kit');
  await expect(slot(page, 'A')).toContainText('active');
  expect(readSlots(dir).active).toBe('A');
  expect(activePayload(dir)).toEqual(HELLO);

  // 2. A module of the demo kit's Vita bundle, by OCI reference: slot B active, A the rollback target.
  await deploy(page, `${KIT}:flight/shared-types/bundles/vita:latest`, { module: 'flight-memory-validation', run: false });
  await expect(page.getByRole('status').filter({ hasText: 'Committed to slot B' })).toBeVisible(PROCESS_WAIT);
  await expect(slot(page, 'B')).toContainText('active');
  await expect(slot(page, 'A')).toContainText('rollback target');
  // Each slot names its module and source (from the device's receipts) next to the hash.
  await expect(slot(page, 'B')).toContainText('flight-memory-validation · bundles/vita:latest', PROCESS_WAIT);
  await expect(slot(page, 'A')).toContainText('hello');
  expect(readSlots(dir).active).toBe('B');
  expect(activePayload(dir)!.subarray(0, 4)).toEqual(Buffer.from('\0asm'));
  await page.screenshot({ path: `${SHOTS}/devices.png`, fullPage: true });

  // 3. Roll back from the deploy's end state: it says what is active now and asks; what it did is logged in the console.
  const outcome = page.getByTestId('deploy-outcome');
  await expect(outcome).toContainText('Flashed flight-memory-validation to local-vita, slot B');
  await outcome.getByRole('button', { name: 'Roll back' }).click();
  await expect(outcome).toContainText('Slot B (flight-memory-validation) is active now. Make slot A');
  await outcome.getByRole('button', { name: 'Roll back to slot A' }).click();
  await expect(slot(page, 'A')).toContainText('active', PROCESS_WAIT);
  await expect(page.getByRole('log', { name: 'Kit log' })).toContainText('Rolled back local-vita: slot A active');
  await expect(slot(page, 'B')).toContainText('rollback target');
  expect(readSlots(dir).active).toBe('A');
  expect(activePayload(dir)).toEqual(HELLO);

  // 4. Follow the log: the kit replays its log into the cleared console; stopping is not an error.
  const log = page.getByRole('log', { name: 'Kit log' });
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(log).not.toContainText('hello from the e2e kit');
  await page.getByRole('button', { name: 'Follow log' }).click();
  await expect(log).toContainText('hello from the e2e kit', PROCESS_WAIT);
  await page.getByRole('button', { name: 'Stop following' }).click();
  await expect(page.getByRole('button', { name: 'Follow log' })).toHaveAttribute('aria-pressed', 'false');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${SHOTS}/devices-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });

  // 5. Stopping the emulator removes it from the list, live.
  await page.getByRole('button', { name: 'Stop emulator' }).click();
  await expect(row(page, uri)).toHaveCount(0, PROCESS_WAIT);
  await expect(page.getByRole('button', { name: 'Start local emulator' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('a Dreamcast kit appears and disappears live; a threaded module is refused with its rule ids; a slow deploy is cancelled', async ({ page, host }) => {
  test.setTimeout(180_000);
  const { errors } = await openDevices(page, host);
  // Slow by construction: each write of the kit waits 30 ms (acks are apart, so the page measures a rate),
  // and the kit holds the upload once it has 512 KiB (no more acks) until the host cancels or gives up.
  dreamcast = await spawnEmulator(
    [
      '--platform',
      'dreamcast',
      '--listen',
      'tcp://127.0.0.1:0',
      '--state',
      dreamcastDir,
      '--fault-delay',
      '30',
      '--fault-hold-after',
      String(512 << 10),
      '--name',
      'bench-dreamcast',
    ],
    {
      FLIGHTDECK_HOME: host.home,
    },
  );
  // Appears with the next poll, without a reload.
  await expect(row(page, dreamcast.uri)).toContainText('dreamcast', PROCESS_WAIT);
  await row(page, dreamcast.uri).getByRole('button', { name: 'bench-dreamcast' }).click();
  await expect(slot(page, 'A')).toContainText('empty');

  await deploy(page, `${KIT}:flight/shared-types/wasm/session-threads:latest`, { run: false });
  const refused = page.locator('form.deploy').getByRole('alert');
  await expect(refused).toContainText('PAYLOAD_CHECK_FAILED', PROCESS_WAIT);
  await expect(refused).toContainText('threads.unsupported');
  await expect(refused.locator('.hint')).not.toBeEmpty();
  await page.screenshot({ path: `${SHOTS}/devices-refused.png`, fullPage: true });
  expect(readSlots(dreamcastDir).active).toBeNull();

  // ~600 KiB to a kit that holds the upload at 512 KiB: it cannot finish, so Cancel surely lands mid-upload.
  await deploy(page, file('big.wasm', withCustomSection(codeModule(200, 9), 'assets', Buffer.alloc(600 << 10, 7))), { run: false });
  // Bytes, phase, measured rate, ETA and retries while it uploads.
  await expect(page.locator('.progress-text')).toHaveText(/KiB \/ 6\d\d KiB · upload · [\d.]+ [KMG]?i?B\/s · ETA \d+ (s|min \d+ s) · 0 retries/, PROCESS_WAIT);
  await page.getByRole('button', { name: 'Cancel' }).click();
  const aborted = page.locator('form.deploy').getByRole('alert');
  await expect(aborted).toContainText('ABORTED', PROCESS_WAIT);
  await expect(aborted.locator('.hint')).not.toBeEmpty();
  expect(readSlots(dreamcastDir).active).toBeNull();

  await dreamcast.stop();
  await expect(row(page, dreamcast.uri)).toHaveCount(0, PROCESS_WAIT);
  await expect(page.getByText('no longer listed')).toBeVisible();
  expect(errors).toEqual([]);
});
