import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, ROOT, type WebHostFixture } from './fixtures.js';
import { resolvePaths } from '../../core/config/paths.js';
import { runCli } from '../support/cli.js';
import { activePayload, readSlots } from '../support/emulator.js';
import { readLayout } from '../support/oci-layout.js';
import { dataModule } from '../support/wasm.js';

// "Open a file…" of the one source picker in a real browser against the real `flightdeck serve`: the
// browser cannot give the host a path, so the chosen file is sent in chunks over the WebSocket (more than
// one 4 MiB message's worth here) and its path on the host fills the field. Then the file is used for real:
// a .wasm and a .tar.gz bundle checked on Checks, the bundle's module deployed to the app's own Vita
// emulator, an offline kit (.tar) verified and imported on Offline kits.
test.describe.configure({ mode: 'serial' });

/** Waits on real work (uploads, checks, a deploy); the bound only ends a hung test on a loaded machine. */
const WORK = { timeout: 30_000 };
const SHOTS = 'test-results/e2e-artifacts/screens';
const work = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-files-'));
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function file(name: string, bytes: Buffer): string {
  const p = path.join(work, name);
  writeFileSync(p, bytes);
  return p;
}

/** The demo kit's Vita bundle as a local .tar.gz file (its tar+gzip layer, copied out of the layout). */
function vitaBundle(): { path: string; bytes: Buffer } {
  const layout = readLayout(DEMO);
  const layer = layout.manifest('flight/shared-types/bundles/vita:latest').layers.find((l) => l.mediaType === 'application/tar+gzip')!;
  const bytes = layout.blob(layer.digest);
  return { path: file('vita-bundle.tar.gz', bytes), bytes };
}

const uploadsOf = (host: WebHostFixture) => path.join(resolvePaths({ FLIGHTDECK_HOME: host.home }).data, 'uploads');
const screen = (page: Page, name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name });

/** Press the picker's Open a file…, answer the browser's file chooser, wait until the file is on the host. */
async function openLocal(page: Page, picker: string, local: string): Promise<number> {
  const started = Date.now();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId(`${picker}-open-file`).click()]);
  expect(chooser.isMultiple()).toBe(false);
  await chooser.setFiles(local);
  await expect(page.getByTestId(`${picker}-opened`)).toContainText(`Opened ${path.basename(local)}`, WORK);
  return Date.now() - started;
}

test('Checks: a local 5 MiB .wasm is sent in chunks with a percentage and its findings shown; a file of the wrong kind is refused before sending', async ({
  page,
  host,
}) => {
  test.setTimeout(90_000);
  const wasm = dataModule(5 * 1024 * 1024, 600);
  const local = file('big-module.wasm', wasm);
  const frames: number[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(Buffer.byteLength(String(f.payload)))));
  await page.goto(host.url);
  await screen(page, 'Checks').click();
  // The file input offers what Checks takes: a .wasm module or a .tar.gz bundle, not a kit.
  await expect(page.getByTestId('target-file-input')).toHaveAttribute('accept', /\.wasm.*\.tar\.gz.*\.tgz/);
  await expect(page.getByTestId('target-file-input')).not.toHaveAttribute('accept', /\.tar(,|$)/);

  // The bar appears with its percentage while the chunks go (watched by the page itself: no timing race).
  await page.evaluate(() => {
    const w = window as unknown as { seenPercent: string[] };
    w.seenPercent = [];
    new MutationObserver(() => {
      const bar = document.querySelector('[role="progressbar"][aria-label="Sending the file"]');
      const text = bar?.parentElement?.querySelector('.progress-text')?.textContent;
      if (text) w.seenPercent.push(text.replace(/\s+/g, ' ').trim());
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  const ms = await openLocal(page, 'target', local);
  console.log(`browser upload of ${wasm.length} bytes: ${ms} ms (${(wasm.length / 1048576 / (ms / 1000)).toFixed(1)} MiB/s)`);
  const seen = await page.evaluate(() => (window as unknown as { seenPercent: string[] }).seenPercent);
  // e.g. "40 % · 2 MiB / 5 MiB · big-module.wasm": a percentage between the ends was on screen.
  const shown = seen.map((t) => /^(\d+) % · \S+ \S+ \/ 5(?:\.\d+)? MiB · big-module\.wasm$/.exec(t)).filter((m) => m !== null);
  expect(
    shown.some((m) => Number(m[1]) > 0 && Number(m[1]) < 100),
    seen.join('\n'),
  ).toBe(true);
  // Chunks, not one message: several frames of about 1.33 MiB (1 MiB base64), none near the 4 MiB cap.
  expect(frames.filter((n) => n > 1024 * 1024).length).toBeGreaterThanOrEqual(5);
  expect(Math.max(...frames)).toBeLessThan(2 * 1024 * 1024);

  // The field holds the file's path on the host, and that file is the chosen one, whole.
  const field = page.getByLabel('Bundle', { exact: true });
  const onHost = await field.inputValue();
  expect(path.relative(uploadsOf(host), onHost)).toBe(path.join(hex(wasm), 'big-module.wasm'));
  expect(readFileSync(onHost).equals(wasm)).toBe(true);
  await expect(page.getByTestId('target-opened')).toContainText(`sha256 ${hex(wasm).slice(0, 12)}`);

  await page.getByRole('checkbox', { name: /Dreamcast/ }).check();
  await page.getByRole('checkbox', { name: /Vita/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByTestId('fits-line')).toHaveText(/^Does not fit Sega Dreamcast[^·]* · Fits PlayStation Vita/, WORK);
  await expect(page.locator('[data-platform="dreamcast"] tbody', { hasText: 'memory.initial-exceeds-budget' })).toHaveCount(1);
  // The findings name the module by its long path under uploads/<sha256>/: it wraps, the page does not scroll sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${SHOTS}/checks-local-file.png`, fullPage: true });

  // A text file named .wasm: refused by its first bytes, nothing sent, the field keeps the last file.
  const before = frames.length;
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('target-open-file').click()]);
  await chooser.setFiles(file('notes.wasm', Buffer.from('just some notes\n'.repeat(100))));
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('INVALID_INPUT notes.wasm is not a .wasm module or a .tar.gz bundle.');
  await expect(alert).toContainText('Choose a .wasm module or a .tar.gz bundle.');
  expect(frames.slice(before).filter((n) => n > 0).length).toBe(0);
  await expect(field).toHaveValue(onHost);
  expect(readdirSync(uploadsOf(host)).filter((f) => f.endsWith('.part'))).toEqual([]);
});

test('Checks and Deploy: a local .tar.gz bundle is checked, and one of its modules deployed to the local Vita emulator', async ({ page, host }) => {
  test.setTimeout(120_000);
  const bundle = vitaBundle();
  await page.goto(host.url);
  await screen(page, 'Checks').click();
  await openLocal(page, 'target', bundle.path);
  await page.getByRole('checkbox', { name: /Vita/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByTestId('fits-line')).toHaveText(/^Fits PlayStation Vita/, WORK);
  await expect(page.getByTestId('check-summary')).toContainText(/\d+ modules/);

  await screen(page, 'Devices').click();
  await page.getByLabel('Platform').selectOption('vita');
  await page.getByRole('button', { name: 'Start local emulator' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Running local-vita' })).toBeVisible(WORK);
  await openLocal(page, 'deploy', bundle.path);
  // The Module list is read from the uploaded bundle itself.
  const module = page.getByLabel('Module', { exact: true });
  await expect(module.locator('option')).toContainText(['flight-memory-validation'], WORK);
  await module.selectOption('flight-memory-validation');
  await page.getByLabel('Run after commit').setChecked(false);
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(page.getByTestId('deploy-outcome')).toContainText('Flashed flight-memory-validation to local-vita', WORK);
  const dir = path.join(resolvePaths({ FLIGHTDECK_HOME: host.home }).data, 'emulators', 'local-vita');
  expect(readSlots(dir).active).not.toBeNull();
  expect(activePayload(dir)!.subarray(0, 4)).toEqual(Buffer.from('\0asm'));
  await page.getByRole('button', { name: 'Stop emulator' }).click();
  await expect(page.getByRole('button', { name: 'Start local emulator' })).toBeVisible(WORK);
});

test('Offline kits: a local kit .tar is verified and imported; the picker there offers kits only', async ({ page, host }) => {
  test.setTimeout(90_000);
  const kit = path.join(work, 'dreamcast-kit.tar');
  const built = await runCli(['kit', 'build', '-p', 'dreamcast', '--from', `oci:${DEMO}`, '--tag', '2026.11.01', '-o', kit], {
    env: { FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-kithome-')) },
  });
  expect(built.code, built.stderr).toBe(0);
  await page.goto(host.url);
  await screen(page, 'Offline kits').click();
  await expect(page.getByTestId('kit-path-file-input')).toHaveAttribute('accept', '.tar,application/x-tar');
  // No bundle list for a kit: kits are not among the app's sources.
  await expect(page.getByTestId('kit-path-picker')).toHaveCount(0);
  await openLocal(page, 'kit-path', kit);
  expect(readFileSync(await page.getByLabel('Kit', { exact: true }).inputValue()).equals(readFileSync(kit))).toBe(true);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('kit-report').getByRole('status')).toContainText('Kit verified', WORK);
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('kit-imported')).toContainText('flight/shared-types/bundles/dreamcast:2026.11.01', WORK);
});
