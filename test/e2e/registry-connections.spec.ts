import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, expect } from './fixtures.js';

// Settings → Registries against `flightdeck serve` and a real docker-registry that requires a password.
test('Settings → Registries shows each setting with its origin and tests a connection step by step', async ({ page, host, registry }) => {
  mkdirSync(path.join(host.home, 'config'), { recursive: true });
  writeFileSync(
    path.join(host.home, 'config', 'config.json'),
    JSON.stringify({ registries: [{ host: registry.host, plainHttp: true, headers: { 'X-Lab': 'bench-3' } }] }),
  );
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(host.url);
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Settings' }).click();
  const card = page.locator(`[data-registry="${registry.host}"]`);
  await expect(card).toContainText('http');
  await expect(card).toContainText(`Flight Deck config: ${path.join(host.home, 'config', 'config.json')}`);

  await card.getByRole('button', { name: 'Test connection' }).click();
  const steps = page.getByRole('list', { name: `Connection test of ${registry.host}` });
  await expect(steps).toHaveAttribute('data-connection-test', 'ok');
  await expect(steps.locator('[data-step="tcp"]')).toHaveAttribute('data-status', 'ok');
  await expect(steps.locator('[data-step="http"]')).toContainText('401');
  await expect(steps.locator('[data-step="auth"]')).toContainText('credentials required');

  // A port nobody listens on: the TCP step fails with its code.
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  await page.getByLabel('Registry', { exact: true }).fill(`127.0.0.1:${closed}`);
  await page.getByRole('button', { name: 'Test connection' }).last().click();
  const failed = page.getByRole('list', { name: `Connection test of 127.0.0.1:${closed}` });
  await expect(failed).toHaveAttribute('data-connection-test', 'failed');
  await expect(failed.locator('[data-step="tcp"]')).toHaveAttribute('data-status', 'fail');
  await expect(failed.locator('[data-step="tcp"]')).toContainText('ECONNREFUSED');
  expect(errors).toEqual([]);
  await page.screenshot({ path: 'test-results/e2e-artifacts/screens/registry-connections.png' });
});
