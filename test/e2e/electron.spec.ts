import path from 'node:path';
import { test, expect, _electron as electron } from '@playwright/test';
import { ROOT } from './fixtures.js';
import { findElectronBinary, hasDisplay } from '../../native-bridge/system/electron.js';

// The desktop shell, driven through Playwright's Electron support. It needs the Electron binary, which
// cannot be downloaded on every machine (ELECTRON_SKIP_BINARY_DOWNLOAD): then this test is skipped with
// the reason, and the same renderer is covered in Chromium by doctor.spec.ts.
const bin = findElectronBinary();

test('the Electron window loads the renderer with the secure preload bridge', async () => {
  test.skip(!bin.executable, `no Electron binary: ${bin.reason}`);
  test.skip(!hasDisplay(), 'no display for an Electron window (set DISPLAY, e.g. under Xvfb)');
  const app = await electron.launch({ executablePath: bin.executable, args: [path.join(ROOT)] });
  try {
    const win = await app.firstWindow();
    await expect(win.getByRole('heading', { name: 'Registries & bundles' })).toBeVisible();
    await win.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Doctor' }).click();
    // The call went renderer → preload → main → api worker (utility process) and back.
    await expect(win.locator('[data-capability]')).toHaveCount(5);
    expect(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
    const bridge = await win.evaluate(() => Object.keys((window as unknown as { flightdeck: object }).flightdeck).sort());
    expect(bridge).toEqual(['onFrame', 'openFile', 'post', 'reveal']);
  } finally {
    await app.close();
  }
});
