import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect, ROOT } from './fixtures.js';
import { resolvePaths } from '../../core/config/paths.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { activePayload, readSlots } from '../support/emulator.js';

// A new user's first minutes, in a real browser against a real `flightdeck serve` with a fresh home
// (nothing configured, an empty content store): the home screen offers the demo kit shipped in the app,
// and three clicks reach a committed deploy on the app's own Vita emulator, checked on the emulator's disk.
test.describe.configure({ mode: 'serial' });

/** UI state that arrives after real processes did their work: a wait on the event; the bound only ends a hung test. */
const PROCESS_WAIT = { timeout: 30_000 };
const SHOTS = 'test-results/e2e-artifacts/screens';

let serve: ServeProcess;
let home: string;
test.beforeAll(async ({ keyringEnv }) => {
  home = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-first-'));
  serve = await startServe({
    FLIGHTDECK_HOME: home,
    DBUS_SESSION_BUS_ADDRESS: keyringEnv.DBUS_SESSION_BUS_ADDRESS,
    XDG_RUNTIME_DIR: keyringEnv.XDG_RUNTIME_DIR,
    DOCKER_CONFIG: path.join(home, 'docker'),
  });
});
test.afterAll(async () => {
  await serve?.stop();
});

/** Clicks, counted: the journey's budget is a number of clicks, not of typed characters (none). */
function counter() {
  let n = 0;
  return {
    async click(target: Locator) {
      n++;
      await target.click();
    },
    get count() {
      return n;
    },
  };
}

/**
 * Records, in the page, whether a deploy's error and a deploy's success were ever on screen together
 * (a MutationObserver sees every state the DOM goes through, however briefly).
 */
async function watchStale(page: Page, scope: string) {
  await page.evaluate((sel) => {
    const w = window as unknown as { __stale: string[] };
    w.__stale = [];
    const look = () => {
      for (const root of document.querySelectorAll(sel)) {
        const error = root.querySelector('[role="alert"]');
        const outcome = root.querySelector('[data-testid="deploy-outcome"], p.ok-text[role="status"]');
        const running = [...root.querySelectorAll('button')].some((b) => b.textContent?.includes('Deploying') || b.textContent?.includes('Flashing'));
        if (error && outcome) w.__stale.push(`error and result together: ${error.textContent} / ${outcome.textContent}`);
        if (running && (error || outcome)) w.__stale.push(`a result under a run: ${(error ?? outcome)!.textContent}`);
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, scope);
}
const stale = (page: Page) => page.evaluate(() => (window as unknown as { __stale: string[] }).__stale);

test('first run: the demo kit from the home screen to a committed deploy on a local emulator in three clicks', async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const clicks = counter();
  await page.goto(serve.url);

  // Home: the demo kit leads, nothing to type.
  const demo = page.getByRole('article', { name: /Try the demo kit/ });
  await expect(demo).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Start', level: 2 })).toBeVisible();
  // The app's own bundles, grouped by platform, without typing.
  await expect(page.locator('ul.bundles[data-platform="vita"]')).toContainText('flight/shared-types/bundles/vita:latest');
  await expect(page.locator('ul.bundles[data-platform="dreamcast"]')).toContainText('flight/shared-types/bundles/dreamcast:latest');
  await page.screenshot({ path: `${SHOTS}/first-run-home.png`, fullPage: true });
  await watchStale(page, 'article.demo');

  await clicks.click(demo.getByRole('button', { name: '1. Check the Vita bundle' }));
  await expect(demo.getByRole('status').filter({ hasText: 'Fits PlayStation Vita' })).toBeVisible(PROCESS_WAIT);

  await clicks.click(demo.getByRole('button', { name: '2. Start a Vita emulator' }));
  await expect(demo.getByRole('status').filter({ hasText: 'Running local-vita' })).toBeVisible(PROCESS_WAIT);

  await clicks.click(demo.getByRole('button', { name: '3. Flash it' }));
  const outcome = demo.getByTestId('deploy-outcome');
  await expect(outcome).toContainText('Flashed flight-memory-validation to local-vita, slot A', PROCESS_WAIT);
  const bar = demo.getByRole('progressbar', { name: 'Deploy progress' });
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(demo.getByTestId('deploy-bar').locator('li[data-phase]')).toHaveText([/Check/, /Upload/, /Verify/, /Commit/, /Run/]);
  await expect(demo.getByTestId('deploy-bar').locator('li[data-state="done"]')).toHaveCount(5);
  await expect(outcome.getByRole('button', { name: 'Flash another' })).toBeVisible();
  await expect(outcome.getByRole('button', { name: 'Run' })).toBeVisible();
  await expect(outcome.getByRole('button', { name: 'Roll back' })).toBeDisabled();
  expect(clicks.count).toBeLessThanOrEqual(6);
  await page.screenshot({ path: `${SHOTS}/first-run-flashed.png`, fullPage: true });

  // On the emulator's own disk: slot A active, holding the Vita bundle's first module.
  const dir = path.join(resolvePaths({ FLIGHTDECK_HOME: home }).data, 'emulators', 'local-vita');
  expect(readSlots(dir).active).toBe('A');
  expect(activePayload(dir)!.subarray(0, 4)).toEqual(Buffer.from('\0asm'));

  // Run again: the last outcome leaves as the new run starts, and comes back when it ends.
  await clicks.click(outcome.getByRole('button', { name: 'Run' }));
  await expect(demo.getByTestId('deploy-outcome')).toContainText('flight-memory-validation was already active on local-vita, slot A', PROCESS_WAIT);
  expect(await stale(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('the Devices screen: a failed deploy and the next successful one never show together; the picker lists the demo kit by platform', async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Devices' }).click();
  // The emulator the first test started runs in this serve process: it is listed; open it.
  await page.getByTestId('devices-table').getByRole('button', { name: 'local-vita' }).click();
  await expect(page.getByTestId('slots')).toBeVisible(PROCESS_WAIT);
  await watchStale(page, 'form.deploy');

  // The picker: the demo kit's bundles by platform, the Dreamcast one marked for this Vita kit.
  const picker = page.getByTestId('deploy-picker');
  await expect(picker.locator('optgroup')).toHaveCount(6);
  await expect(picker.locator('optgroup[label="Built for vita"] option')).toHaveText(['flight/shared-types/bundles/vita:latest · Demo kit']);
  await expect(picker.locator('optgroup[label="Built for dreamcast"] option')).toHaveText([
    'flight/shared-types/bundles/dreamcast:latest · Demo kit — not for vita',
  ]);

  // 1. A path that does not exist: its error, with a hint about the file.
  const field = page.getByLabel('Payload', { exact: true });
  await field.fill(path.join(home, 'missing.wasm'));
  await field.dispatchEvent('change');
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const form = page.locator('form.deploy');
  await expect(form.getByRole('alert')).toContainText('NOT_FOUND', PROCESS_WAIT);
  await expect(form.getByRole('alert')).toContainText('No such file on this machine');
  await expect(form.getByTestId('deploy-bar')).toHaveAttribute('data-state', 'failed');

  // 2. Picked from the list, a module from the bundle's own list: committed; the old error is gone.
  await picker.selectOption({ label: 'flight/shared-types/bundles/vita:latest · Demo kit' });
  await page.getByLabel('Module', { exact: true }).selectOption('flight-error-codes');
  await page.getByLabel('Run after commit').setChecked(false);
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(form.getByTestId('deploy-outcome')).toContainText('Flashed flight-error-codes to local-vita', PROCESS_WAIT);
  await expect(form.getByRole('alert')).toHaveCount(0);
  await expect(form.getByRole('progressbar', { name: 'Deploy progress' })).toHaveAttribute('aria-valuenow', '100');

  // 3. The Dreamcast bundle on a Vita kit: marked before it runs, refused by the check, and "Deploy anyway" is offered (not a flag).
  await picker.selectOption({ label: 'flight/shared-types/bundles/dreamcast:latest · Demo kit — not for vita' });
  await expect(page.getByTestId('deploy-mismatch')).toContainText('Built for dreamcast, but the device is vita');
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(form.getByRole('alert')).toBeVisible(PROCESS_WAIT);
  await expect(form.getByTestId('deploy-outcome')).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/first-run-refused.png`, fullPage: true });
  expect(await stale(page)).toEqual([]);
  expect(errors).toEqual([]);
});

test('Browse an oci: folder: its repositories and tags, then Check this bundle pre-ticks its platform', async ({ page }) => {
  await page.goto(serve.url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Registries & bundles' }).click();
  await page.getByLabel('Registry', { exact: true }).fill(`oci:${path.join(ROOT, 'assets', 'demo-kit')}`);
  await page.getByRole('button', { name: 'Browse' }).click();
  await page.getByRole('navigation', { name: 'Repositories' }).getByRole('button', { name: 'flight/shared-types/bundles/dreamcast' }).click();
  await page.getByRole('navigation', { name: 'Tags' }).getByRole('button', { name: '2026.11.01' }).click();
  const bundle = page.getByRole('article', { name: 'flight/shared-types/bundles/dreamcast:2026.11.01' });
  await expect(bundle.getByTestId('annotations')).toContainText('dreamcast');
  await expect(bundle.getByRole('button', { name: 'Deploy to…' })).toBeVisible();
  await bundle.getByRole('button', { name: 'Check this bundle' }).click();
  await expect(page.getByLabel('Bundle', { exact: true })).toHaveValue(
    `oci:${path.join(ROOT, 'assets', 'demo-kit')}:flight/shared-types/bundles/dreamcast:2026.11.01`,
  );
  await expect(page.getByRole('checkbox', { name: /Sega Dreamcast/ })).toBeChecked();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByTestId('fits-line')).toContainText('Sega Dreamcast', PROCESS_WAIT);
});

test('640 px wide: every screen fits without horizontal scroll; long addresses wrap', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 640, height: 900 });
  await page.goto(serve.url);
  const nav = page.getByRole('navigation', { name: 'Screens' });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  for (const name of ['Start', 'Registries & bundles', 'Checks', 'Devices', 'Receipts', 'Offline kits', 'Credentials', 'Doctor', 'Settings']) {
    await nav.getByRole('button', { name, exact: true }).click();
    await expect(page.getByRole('heading', { level: 2 })).toBeFocused();
    if (name === 'Devices') {
      await page.getByTestId('devices-table').getByRole('button', { name: 'local-vita' }).click();
      await expect(page.getByTestId('slots')).toBeVisible(PROCESS_WAIT);
    }
    if (name === 'Start') await expect(page.locator('ul.bundles[data-platform="vita"]')).toBeVisible();
    expect(await overflow(), `${name} scrolls sideways at 640 px`).toBeLessThanOrEqual(0);
    if (name === 'Start' || name === 'Devices') await page.screenshot({ path: `${SHOTS}/narrow-${name.toLowerCase()}.png`, fullPage: true });
  }
});

test('keyboard only: from the home screen to a flashed kit without the mouse', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto(serve.url);
  const demo = page.getByRole('article', { name: /Try the demo kit/ });
  /** Tab until `target` has the focus (a bounded walk through the page's tab order), then press Enter. */
  async function tabTo(target: ReturnType<Page['getByRole']>) {
    for (let i = 0; i < 40 && !(await target.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await expect(target).toBeFocused();
    await page.keyboard.press('Enter');
  }
  await tabTo(demo.getByRole('button', { name: '1. Check the Vita bundle' }));
  await expect(demo.getByRole('status').filter({ hasText: 'Fits PlayStation Vita' })).toBeVisible(PROCESS_WAIT);
  // The emulator of the first test still runs in this serve: step 2 is done already, so step 3 is next.
  await expect(demo.getByRole('button', { name: '2. Start a Vita emulator' })).toBeDisabled();
  await tabTo(demo.getByRole('button', { name: '3. Flash it' }));
  await expect(demo.getByTestId('deploy-outcome')).toContainText(
    /Flashed flight-memory-validation to|flight-memory-validation was already active on/,
    PROCESS_WAIT,
  );
  // The end state is reachable by keyboard as well.
  await tabTo(demo.getByRole('button', { name: 'Flash another' }));
  await expect(page.getByRole('heading', { name: 'Devices', level: 2 })).toBeVisible();
});
