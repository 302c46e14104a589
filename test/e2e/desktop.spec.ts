import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import path from 'node:path';
import { test, expect, ROOT, type WebHostFixture } from './fixtures.js';
import { startRegistry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';

// The whole job in a real browser against real parts: `flightdeck serve`, gnome-keyring on a private
// D-Bus, docker-registry with a password, the demo kit published by skopeo. Tests run in order and share
// the server's state (the keychain entry, the content store), like one user's session.
test.describe.configure({ mode: 'serial' });

const SHOTS = 'test-results/e2e-artifacts/screens';

/** Open the app and record every WebSocket frame the page receives. */
async function open(page: Page, host: WebHostFixture) {
  const received: string[] = [];
  const errors: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(String(f.payload))));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(host.url);
  await expect(page.getByRole('heading', { name: 'Flight Deck', level: 1 })).toBeVisible();
  return { received, errors };
}

const screen = (page: Page, name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name });

test('credentials: a wrong password is refused with its code and hint, nothing is stored', async ({ page, host, registry }) => {
  const { errors } = await open(page, host);
  await screen(page, 'Credentials').click();
  await page.getByLabel('Registry', { exact: true }).fill(registry.host);
  await page.getByLabel('User name').fill(registry.username);
  await page.getByLabel('Password or token').fill('not-the-password');
  await page.getByRole('button', { name: 'Verify and save' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('REGISTRY_UNAUTHORIZED');
  await expect(alert.locator('.hint')).not.toBeEmpty();
  await expect(page.getByTestId('credentials-table').locator(`[data-registry="${registry.host}"]`)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('credentials: sign in through the UI; the password appears nowhere in the page, the frames or the server output', async ({
  page,
  host,
  registry,
  keyringEnv,
}) => {
  const { received } = await open(page, host);
  await screen(page, 'Credentials').click();
  await page.getByLabel('Registry', { exact: true }).fill(registry.host);
  await page.getByLabel('User name').fill(registry.username);
  await page.getByLabel('Password or token').fill(registry.password);
  await page.getByRole('button', { name: 'Verify and save' }).click();
  await expect(page.getByRole('status')).toContainText(`Signed in to ${registry.host} as ${registry.username}`);
  const row = page.getByTestId('credentials-table').locator(`[data-registry="${registry.host}"]`);
  await expect(row).toContainText('keychain');
  await expect(row).toContainText(registry.username);
  await expect(page.getByLabel('Password or token')).toHaveValue('');

  await row.getByRole('button', { name: 'Test' }).click();
  await expect(page.getByText(`${registry.host}: signed in as ${registry.username} (OS keychain)`)).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/credentials.png` });

  // The secret went into the keychain (independent check with secret-tool) ...
  const stored = JSON.parse(execFileSync('secret-tool', ['lookup', 'service', 'flightdeck', 'account', registry.host], { env: keyringEnv }).toString()) as {
    username: string;
    secret: string;
  };
  expect(stored).toMatchObject({ username: registry.username, secret: registry.password });
  // ... and nowhere else.
  expect(received.length).toBeGreaterThan(0);
  const html = await page.content();
  const storage = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  for (const [where, text] of [
    ['page', html],
    ['storage', storage],
    ['frames received', received.join('\n')],
    ['server output', host.output()],
  ] as const) {
    expect(text.includes(registry.password), `password found in ${where}`).toBe(false);
  }
});

test('registries: browse repositories and date tags, inspect a bundle, pull it with progress into the cache', async ({ page, host, registry }) => {
  const { received, errors } = await open(page, host);
  await screen(page, 'Registries & bundles').click();
  await page.getByLabel('Registry', { exact: true }).fill(registry.host);
  await page.getByRole('button', { name: 'Browse' }).click();
  const repos = page.getByRole('navigation', { name: 'Repositories' });
  await expect(repos.getByRole('button')).toHaveText([
    'flight/shared-types/bundles/dreamcast',
    'flight/shared-types/bundles/vita',
    'flight/shared-types/manifest',
  ]);
  await repos.getByRole('button', { name: 'flight/shared-types/bundles/vita' }).click();
  const tags = page.getByRole('navigation', { name: 'Tags' });
  await expect(tags.getByRole('button')).toHaveText(['latest', '2026.11.01']);
  await tags.getByRole('button', { name: '2026.11.01' }).click();

  const bundle = page.getByRole('article', { name: 'flight/shared-types/bundles/vita:2026.11.01' });
  await expect(bundle.getByTestId('annotations')).toContainText('vita');
  await expect(bundle.locator('tbody tr')).not.toHaveCount(0);
  const layers = await bundle.locator('tbody tr').count();
  await bundle.getByRole('button', { name: 'Pull' }).click();
  await expect(bundle.getByRole('status')).toContainText(`Pulled ${layers} layers`);
  await expect(bundle.getByRole('progressbar', { name: 'Pull progress' })).toHaveAttribute('aria-valuenow', '100');
  // Progress arrived as event frames of that call before its result.
  const events = received.map((r) => JSON.parse(r) as { t: string; event?: { task?: string } }).filter((f) => f.t === 'event' && f.event?.task === 'blob');
  expect(events.length).toBeGreaterThan(0);

  const cache = page.getByTestId('cache-table');
  await expect(cache).toContainText(`${registry.host}/flight/shared-types/bundles/vita:2026.11.01`);
  await expect(cache.locator('td.num').first()).toHaveText(/\d+(\.\d+)? (B|KiB|MiB)/);

  await page.getByRole('button', { name: 'Master manifest' }).click();
  const master = page.getByRole('article', { name: /Master manifest/ });
  // The master manifest lists each artifact by the repository:tag it is published under; the digest it pins is secondary text.
  const vita = master.getByTestId('master-artifacts').locator(`li[data-reference="${registry.host}/flight/shared-types/bundles/vita:2026.11.01"]`);
  await expect(vita.locator('code.ref')).toHaveText(`${registry.host}/flight/shared-types/bundles/vita:2026.11.01`);
  await expect(vita).toContainText(/bundles · vita · pinned [0-9a-f]{12}/);
  await expect(vita.locator('code.digest')).toHaveAttribute('title', /^sha256:[0-9a-f]{64}$/);
  await expect(master.getByTestId('master-artifacts').locator('code.ref', { hasText: /\/sha256:/ })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/registries.png`, fullPage: true });
  expect(errors).toEqual([]);
});

test('checks: the Vita bundle fails Dreamcast with rule ids and over-budget memory, passes Vita; reports export', async ({ page, host, registry }) => {
  const { errors } = await open(page, host);
  await screen(page, 'Checks').click();
  await page.getByLabel('Bundle').fill(`${registry.host}/flight/shared-types/bundles/vita:2026.11.01`);
  await page.getByRole('checkbox', { name: /Dreamcast/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByTestId('check-summary')).toContainText('Does not fit');
  const dc = page.locator('[data-platform="dreamcast"]');
  await expect(dc.getByRole('heading', { level: 3 })).toContainText('Fails');
  for (const rule of ['threads.unsupported', 'feature.unsupported', 'memory.initial-exceeds-budget']) {
    await expect(dc.locator('tbody', { hasText: rule })).not.toHaveCount(0);
  }
  // Findings by module, each with the fix it suggests.
  await expect(dc.locator('td.fix', { hasText: '-sINITIAL_MEMORY=' })).not.toHaveCount(0);
  await expect(dc.locator('.memory.over')).not.toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/checks-dreamcast.png`, fullPage: true });

  const exported: Record<string, string> = {};
  for (const format of ['JSON', 'SARIF', 'JUnit']) {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: format, exact: true }).click()]);
    exported[format] = readFileSync(await dl.path(), 'utf8');
    expect(dl.suggestedFilename()).toMatch(/^flightdeck-check-/);
  }
  const json = JSON.parse(exported.JSON!) as { schema: string; summary: { fits: boolean } };
  expect(json).toMatchObject({ schema: 'flightdeck.check-report/v1', summary: { fits: false } });
  const sarif = JSON.parse(exported.SARIF!) as { version: string; runs: Array<{ results: Array<{ ruleId: string }> }> };
  expect(sarif.version).toBe('2.1.0');
  expect(sarif.runs[0]!.results.map((r) => r.ruleId)).toContain('threads.unsupported');
  expect(exported.JUnit).toMatch(/<testsuites?[\s>]/);
  expect(exported.JUnit).toContain('<failure');

  await page.getByRole('checkbox', { name: /Dreamcast/ }).uncheck();
  await page.getByRole('checkbox', { name: /Vita/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByTestId('check-summary')).toContainText('Fits');
  await expect(page.locator('[data-platform="vita"]').getByRole('heading', { level: 3 })).toContainText('Fits');
  await expect(page.locator('[data-platform="vita"] .memory.over')).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/checks-vita.png`, fullPage: true });
  expect(errors).toEqual([]);
});

test('a slow pull shows live byte progress and Cancel stops it with ABORTED; nothing is cached', async ({ page, host }) => {
  // A second, open registry behind a proxy that sends half of every blob body and then stalls until the
  // client gives up: the pull cannot finish, however fast or slow the machine, so the bar is mid-way
  // (never 100) when the test looks, and only Cancel ends it.
  const slow = await startRegistry();
  const proxy = await startFaultProxy(slow.url);
  try {
    const kit = path.join(ROOT, 'assets', 'demo-kit');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${kit}:flight/shared-types/bundles/v6r-small:latest`,
      `docker://${slow.host}/flight/shared-types/bundles/v6r-small:2026.11.01`,
    ]);
    proxy.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'stall', after: 600 } });
    const sent: string[] = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
    await open(page, host);
    await screen(page, 'Registries & bundles').click();
    await page.getByLabel('Registry', { exact: true }).fill(proxy.host);
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.getByRole('button', { name: 'flight/shared-types/bundles/v6r-small' }).click();
    await page.getByRole('button', { name: '2026.11.01' }).click();
    const bundle = page.getByRole('article', { name: 'flight/shared-types/bundles/v6r-small:2026.11.01' });
    await bundle.getByRole('button', { name: 'Pull' }).click();
    const bar = bundle.getByRole('progressbar', { name: 'Pull progress' });
    // Bytes arrived for both blobs (config 1 of 2 B, layer 600 of 1,200 B) and the rest never will.
    await expect(bundle.getByText(/· 2 blobs/)).toBeVisible();
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
    await bundle.getByRole('button', { name: 'Cancel' }).click();
    await expect(bundle.getByRole('alert')).toContainText('ABORTED');
    expect(sent.map((f) => JSON.parse(f) as { t: string }).some((f) => f.t === 'cancel')).toBe(true);
    // The server's cache (read fresh after a reload) holds nothing from that registry.
    await page.reload();
    await screen(page, 'Registries & bundles').click();
    await expect(page.getByText(/\d+ artifacts?, \d+ blobs/)).toBeVisible();
    await expect(page.locator('[data-testid="cache-table"] td', { hasText: proxy.host })).toHaveCount(0);
  } finally {
    await proxy.stop();
    await slow.stop();
  }
});

test('the Registries screen hands a bundle to Checks; a missing tag shows NOT_FOUND with a hint', async ({ page, host, registry }) => {
  await open(page, host);
  await screen(page, 'Registries & bundles').click();
  await page.getByLabel('Registry', { exact: true }).fill(registry.host);
  await page.getByRole('button', { name: 'Browse' }).click();
  await page.getByRole('button', { name: 'flight/shared-types/bundles/dreamcast' }).click();
  await page.getByRole('button', { name: '2026.11.01' }).click();
  await page.getByRole('button', { name: 'Check this bundle' }).click();
  await expect(page.getByRole('heading', { name: 'Checks' })).toBeVisible();
  await expect(page.getByLabel('Bundle')).toHaveValue(`${registry.host}/flight/shared-types/bundles/dreamcast:2026.11.01`);
  await page.getByLabel('Bundle').fill(`${registry.host}/flight/shared-types/bundles/dreamcast:1999.01.01`);
  await page.getByRole('checkbox', { name: /Dreamcast/ }).check();
  await page.getByRole('button', { name: 'Run check' }).click();
  await expect(page.getByRole('alert')).toContainText('NOT_FOUND');
  await expect(page.getByRole('alert').locator('.hint')).not.toBeEmpty();
});

test('keyboard: Tab reaches the screens, Enter opens one and focus lands on its heading', async ({ page, host }) => {
  await open(page, host);
  const target = screen(page, 'Checks');
  for (let i = 0; i < 10 && !(await target.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(target).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Checks', level: 2 })).toBeFocused();
  await expect(target).toHaveAttribute('aria-current', 'page');
});

test('settings: dark theme applies and is kept; screenshots in dark', async ({ page, host }) => {
  await open(page, host);
  await screen(page, 'Settings').click();
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.getByRole('radio', { name: 'Dark' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(dark).not.toBe(light);
  await page.screenshot({ path: `${SHOTS}/settings-dark.png` });
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await screen(page, 'Doctor').click();
  await expect(page.locator('[data-capability]')).toHaveCount(5);
  await page.screenshot({ path: `${SHOTS}/doctor-dark.png` });
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Follow the system' }).check();
});

test('credentials: remove asks for confirmation, then the keychain entry is gone', async ({ page, host, registry, keyringEnv }) => {
  await open(page, host);
  await screen(page, 'Credentials').click();
  const row = page.getByTestId('credentials-table').locator(`[data-registry="${registry.host}"]`);
  await expect(row).toContainText('keychain');
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.getByRole('button', { name: 'Confirm remove' }).click();
  await expect(page.getByText(`Removed the credentials of ${registry.host} from the keychain.`)).toBeVisible();
  await expect(row).toHaveCount(0);
  expect(() => execFileSync('secret-tool', ['lookup', 'service', 'flightdeck', 'account', registry.host], { env: keyringEnv, stdio: 'pipe' })).toThrow();
});
