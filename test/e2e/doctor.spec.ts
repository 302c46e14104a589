import { test, expect } from './fixtures.js';

test.describe('Flight Deck in a browser (flightdeck serve)', () => {
  test('shows the doctor view with every capability and a fix for the missing ones', async ({ page, host }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(host.url);
    await expect(page.getByRole('heading', { name: 'Flight Deck', level: 1 })).toBeVisible();
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Doctor' }).click();
    await expect(page.getByRole('heading', { name: 'Doctor' })).toBeVisible();
    const caps = page.locator('[data-capability]');
    await expect(caps).toHaveCount(5);
    for (const id of ['keychain', 'serial', 'usb', 'registry', 'electron']) {
      await expect(page.locator(`[data-capability="${id}"] h3`)).not.toBeEmpty();
    }
    // Electron has no binary here: the view says so, with its stable code.
    await expect(page.locator('[data-capability="electron"]')).toContainText('ELECTRON_UNAVAILABLE');
    await expect(page.locator('header .meta')).toContainText(/v\d+\.\d+\.\d+ · browser/);
    // The token was taken out of the address bar after the first load.
    expect(new URL(page.url()).hash).toBe('');
    expect(errors).toEqual([]);
    await page.screenshot({ path: 'test-results/e2e-artifacts/screens/doctor.png' });
  });

  test('is keyboard operable: the re-check button is reachable with Tab and runs the check', async ({ page, host }) => {
    await page.goto(host.url);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Doctor' }).click();
    await expect(page.locator('[data-capability]')).toHaveCount(5);
    const button = page.getByRole('button', { name: 'Check again' });
    for (let i = 0; i < 10 && !(await button.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
    await expect(button).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.locator('[data-capability]')).toHaveCount(5);
  });

  test('without the session token the api refuses and the page shows a coded error', async ({ page, host }) => {
    await page.goto(host.origin + '/');
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Doctor' }).click();
    await expect(page.getByRole('alert')).toContainText('INVALID_INPUT');
    await expect(page.getByRole('alert')).toContainText('Open the URL printed by `flightdeck serve`');
  });
});
