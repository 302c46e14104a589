import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { startServe, type ServeProcess } from '../support/serve.js';
import { makeCa } from '../support/tls.js';
import { test, expect } from './fixtures.js';

// Settings → Registries edits Flight Deck's own registry entries (config.json) against a real
// `flightdeck serve` and a real docker-registry; a second `flightdeck serve` on the same data folder is the
// other Flight Deck process that changes the file meanwhile. registries.conf and certs.d come from fixture
// files named by the environment (never /etc).

/** Random per run: finding one anywhere in the page or in a process's output is a real leak. */
const SECRET = `fd-hdr-${Math.random().toString(36).slice(2)}-one`;
const SECRET2 = `fd-hdr-${Math.random().toString(36).slice(2)}-two`;
const PRIVATE = `fd-private-${Math.random().toString(36).slice(2)}`;

/** Press Tab until `target` has the focus: the form is reached and used with the keyboard only. */
async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${String(target)}`);
}

/** Everything the page holds, input values included (a typed secret lives in `value`, not in the HTML). */
async function pageText(page: Page): Promise<string> {
  const values = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')].map((e) => (e as HTMLInputElement).value).join('\n'));
  return `${await page.content()}\n${values}`;
}

async function apiCall(serve: ServeProcess, method: string, input: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string } }> {
  const res = await fetch(`${serve.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-flightdeck-token': serve.token },
    body: JSON.stringify(input),
  });
  return (await res.json()) as { ok: boolean; value?: unknown; error?: { code: string } };
}

test('Settings → Registries: add an entry with the keyboard, test it, edit a secret header, reload after another process changed it, remove it', async ({
  page,
  keyringEnv,
  registry,
}) => {
  test.setTimeout(90_000);
  const home = mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-regset-'));
  const certsD = path.join(home, 'certs.d');
  mkdirSync(path.join(certsD, 'lab.example:5000'), { recursive: true });
  // A CA in a certs.d folder is its .crt only (a .key beside it would be a client key without its .cert).
  rmSync(makeCa(path.join(certsD, 'lab.example:5000'), 'lab-ca').key);
  const conf = path.join(home, 'registries.conf');
  writeFileSync(conf, ['[[registry]]', 'prefix = "quay.lab.example"', 'location = "quay.lab.example"', 'insecure = true'].join('\n'));
  const env = {
    FLIGHTDECK_HOME: home,
    FLIGHTDECK_CERTS_D: certsD,
    CONTAINERS_REGISTRIES_CONF: conf,
    DBUS_SESSION_BUS_ADDRESS: keyringEnv.DBUS_SESSION_BUS_ADDRESS,
    XDG_RUNTIME_DIR: keyringEnv.XDG_RUNTIME_DIR,
    DOCKER_CONFIG: path.join(home, 'docker'),
  };
  const privateFile = path.join(home, 'shadow');
  writeFileSync(privateFile, `root:$6$${PRIVATE}:19000:0:99999:7:::\n`, { mode: 0o600 });
  const configJson = path.join(home, 'config', 'config.json');
  const stored = () => JSON.parse(readFileSync(configJson, 'utf8')) as { registries: Array<Record<string, unknown>> };
  const app = await startServe(env);
  let other: ServeProcess | undefined;
  try {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Settings' }).click();

    // The other tools' settings: listed, labelled with their file, not editable.
    const quay = page.locator('[data-registry="quay.lab.example"]');
    await expect(quay.locator('[data-external="registries.conf"]')).toContainText(`Read-only, from registries.conf ${conf}`);
    await expect(quay).toContainText('registries.conf');
    await expect(quay.getByRole('button', { name: /^Edit/ })).toHaveCount(0);
    const lab = page.locator('[data-registry="lab.example:5000"]');
    await expect(lab.locator('[data-external="certs.d"]')).toContainText(path.join(certsD, 'lab.example:5000'));
    await expect(lab.locator('[data-external="certs.d"]')).toContainText('CA lab-ca.crt');
    await expect(lab).toContainText(`CAs${path.join(certsD, 'lab.example:5000', 'lab-ca.crt')} certs.d folder: ${path.join(certsD, 'lab.example:5000')}`);

    // --- Add, keyboard only. ---
    const add = page.getByRole('button', { name: 'Add registry' });
    await add.focus();
    await page.keyboard.press('Enter');
    const form = page.locator('[data-registry-form="new"]');
    const hostInput = form.getByLabel('Registry host');
    await expect(hostInput).toBeFocused();
    // A bad host is refused on the field before anything is sent.
    await page.keyboard.type('not a host!');
    await page.keyboard.press('Enter');
    await expect(hostInput).toHaveAttribute('aria-invalid', 'true');
    await expect(hostInput).toHaveAccessibleDescription(/Expected a registry host\[:port\]/);
    await expect(hostInput).toBeFocused();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(registry.host);

    // Insecure: ticked with Space, the warning says what it costs; unticked again.
    const insecure = form.getByLabel('Skip TLS verification (insecure)');
    await tabTo(page, insecure);
    await page.keyboard.press('Space');
    await expect(form.getByRole('note')).toContainText('anyone on the network path can pose as this registry');
    await page.keyboard.press('Space');
    await expect(form.getByRole('note')).toHaveCount(0);

    // A header whose name says it is a secret: its value goes into a password field.
    await tabTo(page, form.getByRole('button', { name: 'Add header' }));
    await page.keyboard.press('Enter');
    await expect(form.getByLabel('Header 1 name')).toBeFocused();
    await page.keyboard.type('X-Lab-Token');
    await page.keyboard.press('Tab');
    await expect(form.getByLabel('value', { exact: true })).toBeFocused();
    await expect(form.getByLabel('value', { exact: true })).toHaveAttribute('type', 'password');
    await page.keyboard.type(SECRET);

    // Two mirrors, the second moved up with the keyboard (the focus stays on the moved row).
    for (const [n, location] of [
      [1, 'mirror-a.lab.example:5000'],
      [2, 'mirror-b.lab.example:5000/cache'],
    ] as const) {
      await tabTo(page, form.getByRole('button', { name: 'Add mirror' }));
      await page.keyboard.press('Enter');
      await expect(form.getByLabel(`Mirror ${n}`, { exact: true })).toBeFocused();
      await page.keyboard.type(location);
    }
    await tabTo(page, form.getByRole('button', { name: 'Move mirror 2 up' }));
    await page.keyboard.press('Enter');
    await expect(form.getByLabel('Mirror 1', { exact: true })).toHaveValue('mirror-b.lab.example:5000/cache');
    await expect(form.getByRole('button', { name: 'Move mirror 1 down' })).toBeFocused();

    // A proxy the api refuses: the error is shown on the proxy field (the api names it), which gets the focus.
    const proxy = form.getByLabel('Proxy', { exact: true });
    await tabTo(page, proxy);
    await page.keyboard.type('socks5://proxy.lab.example:1080');
    await page.keyboard.press('Enter');
    await expect(proxy).toHaveAttribute('aria-invalid', 'true');
    await expect(proxy).toHaveAccessibleDescription(/not an http:\/\/ or https:\/\/ URL/);
    await expect(proxy).toBeFocused();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('direct');

    // A client certificate and key naming a private file of the user's (as /etc/shadow would be): refused
    // on the field, and nothing of the file reaches the page.
    const cert = form.getByLabel('Client certificate');
    const key = form.getByLabel('Client key');
    await tabTo(page, cert);
    await page.keyboard.type(privateFile);
    await page.keyboard.press('Tab');
    await expect(key).toBeFocused();
    await page.keyboard.type(privateFile);
    await page.keyboard.press('Enter');
    await expect(cert).toHaveAttribute('aria-invalid', 'true');
    await expect(cert).toHaveAccessibleDescription(`The client certificate ${privateFile} of ${registry.host} holds no PEM certificate.`);
    expect(await pageText(page)).not.toContain(PRIVATE);
    await cert.fill('');
    await key.fill('');
    await key.press('Enter');

    // Saved: listed with its origin, the form gone, the secret nowhere in the page.
    const card = page.locator(`[data-registry="${registry.host}"]`);
    await expect(form).toHaveCount(0);
    await expect(card.locator('h4')).toBeFocused();
    await expect(card).toContainText(`Flight Deck config: ${configJson}`);
    await expect(card).toContainText('X-Lab-Token');
    await expect(card).toContainText('mirror-b.lab.example:5000/cache, mirror-a.lab.example:5000');
    expect(await pageText(page)).not.toContain(SECRET);
    expect(stored().registries).toEqual([
      {
        host: registry.host,
        headers: { 'X-Lab-Token': SECRET },
        proxy: 'direct',
        mirrors: [{ location: 'mirror-b.lab.example:5000/cache' }, { location: 'mirror-a.lab.example:5000' }],
        pullFromMirror: 'all',
      },
    ]);

    // Test connection uses the saved settings.
    await card.getByRole('button', { name: 'Test connection' }).click();
    const steps = page.getByRole('list', { name: `Connection test of ${registry.host}` });
    await expect(steps).toHaveAttribute('data-connection-test', 'ok');
    await expect(steps.locator('[data-step="proxy"]')).toContainText(`direct (${configJson})`);
    await expect(steps.locator('[data-step="http"]')).toContainText('401');

    // --- Edit: the secret is "set — unchanged", never in the page; a new value replaces it. ---
    await card.getByRole('button', { name: `Edit ${registry.host}` }).click();
    const edit = page.locator(`[data-registry-form="${registry.host}"]`);
    const value = edit.getByLabel('value', { exact: true });
    await expect(value).toHaveValue('');
    await expect(value).toHaveAttribute('placeholder', 'set — unchanged');
    await expect(value).toHaveAttribute('type', 'password');
    await expect(edit).toContainText('set — unchanged (type a new value to replace it)');
    expect(await pageText(page)).not.toContain(SECRET);
    await value.fill(SECRET2);
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toHaveCount(0);
    expect(await pageText(page)).not.toMatch(new RegExp(`${SECRET}|${SECRET2}`));
    expect(stored().registries[0]).toMatchObject({ headers: { 'X-Lab-Token': SECRET2 } });

    // An edit that keeps the secret (nothing typed) keeps it.
    await card.getByRole('button', { name: `Edit ${registry.host}` }).click();
    await edit.getByRole('button', { name: 'Remove mirror 2' }).click();
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toHaveCount(0);
    expect(stored().registries[0]).toMatchObject({ headers: { 'X-Lab-Token': SECRET2 }, mirrors: [{ location: 'mirror-b.lab.example:5000/cache' }] });

    // --- Another Flight Deck process changes the entry while the form is open. ---
    await card.getByRole('button', { name: `Edit ${registry.host}` }).click();
    await edit.getByLabel('Header 1 name').fill('X-Lab-Token');
    await edit.getByLabel('value', { exact: true }).fill('typed-before-the-reload');
    other = await startServe(env);
    const listed = await apiCall(other, 'registry.settings.list', {});
    const theirs = (listed.value as { entries: Array<{ host: string; revision: string }> }).entries.find((e) => e.host === registry.host)!;
    const changed = await apiCall(other, 'registry.settings.save', {
      revision: theirs.revision,
      entry: { host: registry.host, plainHttp: true, headers: [{ name: 'X-Lab-Token' }, { name: 'X-Bench', value: 'bench-7' }] },
    });
    expect(changed.ok).toBe(true);
    await edit.getByRole('button', { name: 'Save' }).click();
    const banner = page.locator('[data-conflict]');
    await expect(banner).toContainText('changed by another Flight Deck window/process — reload');
    await expect(edit.getByRole('button', { name: 'Save' })).toBeDisabled();
    await page.screenshot({ path: 'test-results/e2e-artifacts/screens/registry-settings-conflict.png', fullPage: true });
    expect(stored().registries[0]).toMatchObject({ plainHttp: true, headers: { 'X-Lab-Token': SECRET2, 'X-Bench': 'bench-7' } });
    await banner.getByRole('button', { name: 'Reload' }).click();
    await expect(banner).toHaveCount(0);
    // The form starts over from the file: the other process's values, nothing typed before the reload.
    await expect(edit.getByLabel('Connection', { exact: true })).toHaveValue('http');
    await expect(edit.getByLabel('Header 2 name')).toHaveValue('X-Bench');
    await expect(edit.locator('[data-header-row="0"] input[type="password"]')).toHaveValue('');
    expect(await pageText(page)).not.toContain('typed-before-the-reload');
    await expect(card).toContainText('X-Lab-Token, X-Bench');
    // ...and a save now goes through.
    await edit.getByLabel('Header 2 name').fill('X-Bench');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toHaveCount(0);

    // Escape closes the form without saving; the focus goes back to Edit.
    const editButton = card.getByRole('button', { name: `Edit ${registry.host}` });
    await editButton.focus();
    await page.keyboard.press('Enter');
    await expect(edit.getByLabel('Registry host')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(edit).toHaveCount(0);
    await expect(editButton).toBeFocused();

    // --- Remove, with a confirmation. ---
    await card.getByRole('button', { name: `Remove ${registry.host}` }).click();
    await page
      .getByRole('group', { name: `Confirm removing ${registry.host}` })
      .getByRole('button', { name: 'Remove entry' })
      .click();
    await expect(card).toHaveCount(0);
    expect(stored().registries).toEqual([]);
    await expect(page.getByRole('button', { name: 'Add registry' })).toBeFocused();

    // No secret in any process's output.
    for (const out of [app.output(), other.output()]) expect(out).not.toMatch(new RegExp(`${SECRET}|${SECRET2}|${PRIVATE}`));
    await page.screenshot({ path: 'test-results/e2e-artifacts/screens/registry-settings.png', fullPage: true });
  } finally {
    await other?.stop();
    await app.stop();
  }
});
