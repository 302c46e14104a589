import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './fixtures.js';
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
  await expect(demo.getByTestId('deploy-outcome')).toContainText('Already on flight-memory-validation', PROCESS_WAIT);
  expect(await stale(page)).toEqual([]);
  expect(errors).toEqual([]);
});
