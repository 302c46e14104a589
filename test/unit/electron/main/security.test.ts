import { describe, expect, it } from 'vitest';
import { CSP, SECURE_WEB_PREFERENCES, isTrustedUrl, resolveAppFile } from '../../../../electron/main/security.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../../../../core/security.js';
import { ROOT } from '../../../support/cli.js';

describe('Electron shell security', () => {
  it('follows the checklist in its web preferences', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('uses the strict CSP: nothing remote, no inline script; index.html carries the same policy', () => {
    expect(CSP).toBe(CONTENT_SECURITY_POLICY);
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(readFileSync(path.join(ROOT, 'renderer/index.html'), 'utf8'))?.[1];
    expect(meta).toBe(CSP.replace("; frame-ancestors 'none'", ''));
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it('trusts only its own app:// origin', () => {
    expect(isTrustedUrl('app://flightdeck/index.html')).toBe(true);
    for (const url of ['https://flightdeck/index.html', 'app://evil/index.html', 'file:///etc/passwd', 'javascript:alert(1)', '', undefined, 'not a url']) {
      expect(isTrustedUrl(url), String(url)).toBe(false);
    }
  });

  it('maps app:// paths into the renderer folder and refuses every escape', () => {
    expect(resolveAppFile('app://flightdeck/', '/r')).toBe('/r/index.html');
    expect(resolveAppFile('app://flightdeck/a%2f..%2f..%2fsecret', '/r')).toBeUndefined();
    expect(resolveAppFile('app://flightdeck/assets/a.js', '/r/')).toBe('/r/assets/a.js');
    for (const url of [
      'app://flightdeck/../secret',
      'app://flightdeck/%2e%2e/secret',
      'app://flightdeck/a/..%2f..%2fsecret',
      'app://flightdeck/a%5c..%5csecret',
      'app://flightdeck/a%00b',
      'app://other/index.html',
    ]) {
      const file = resolveAppFile(url, '/r');
      expect(file === undefined || (file.startsWith('/r/') && !file.includes('..')), url).toBe(true);
    }
  });
});
