import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../core/config/paths.js';
import { BIN, ROOT, tempHome } from '../../support/cli.js';

/** `flightdeck serve` as a user starts it: a real process, a real port, the printed URL. */
let child: ChildProcess;
let origin: string;
let token: string;

beforeAll(async () => {
  child = spawn(process.execPath, [BIN, 'serve', '--json'], { cwd: ROOT, env: { ...process.env, FLIGHTDECK_HOME: tempHome() } });
  const printed = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        resolve(JSON.parse(out) as { url: string; origin: string });
      } catch {
        // wait for the whole document
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  origin = printed.origin;
  token = new URL(printed.url).hash.replace('#token=', '');
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

/** Raw request so tests can set Host and Origin as an attacker's page or a rebinding DNS would. */
function request(pathname: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const u = new URL(pathname, origin);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const api = (method: string, headers: Record<string, string> = {}, body = '{}') =>
  request(`/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flightdeck-token': token, ...headers }, body });

describe('flightdeck serve (web host)', () => {
  it('binds to loopback and prints a URL carrying a session token', () => {
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the renderer with a strict CSP', async () => {
    const r = await request('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<div id="app">');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers api calls with the contract envelope', async () => {
    const r = await api('app.version');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ ok: true, value: { version: expect.any(String) } });
  });

  it('refuses api calls without the token, from another origin, or for another Host', async () => {
    expect((await api('app.version', { 'x-flightdeck-token': 'wrong' })).status).toBe(401);
    expect((await api('app.version', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('app.version', { host: 'evil.example:80' })).status).toBe(421);
    expect((await request('/api/app.version')).status).toBe(405);
  });

  it('rejects bad input with a coded error, not a crash', async () => {
    const bad = JSON.parse((await api('doctor.run', {}, '{"registries": 7}')).body) as { ok: boolean; error: { code: string } };
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect((await api('doctor.run', {}, '{not json')).status).toBe(400);
    expect(JSON.parse((await api('no.such.method')).body)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/assets/../../package.json']) {
      const r = await request(p);
      expect(r.status, p).toBe(404);
    }
  });
});

describe('flightdeck serve with a local emulator started from the UI', () => {
  it('SIGTERM ends serve and the emulator with it (port closed, registration removed)', async () => {
    const home = tempHome();
    const serve = spawn(process.execPath, [BIN, 'serve', '--json'], {
      cwd: ROOT,
      env: { ...process.env, FLIGHTDECK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => serve.once('exit', (code, signal) => r({ code, signal })));
    try {
      const printed = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
        let out = '';
        serve.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          try {
            resolve(JSON.parse(out) as { url: string; origin: string });
          } catch {
            // wait for the whole document
          }
        });
        void exited.then(({ code }) => reject(new Error(`serve exited with ${code}`)));
      });
      const u = new URL(printed.origin);
      const started = await new Promise<{ ok: boolean; value: { uri: string } }>((resolve, reject) => {
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            path: '/api/emulators.start',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-flightdeck-token': new URL(printed.url).hash.replace('#token=', '') },
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(JSON.parse(body) as { ok: boolean; value: { uri: string } }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ platform: 'vita' }));
      });
      expect(started.ok, JSON.stringify(started)).toBe(true);
      const dir = path.join(resolvePaths({ FLIGHTDECK_HOME: home }).data, 'emulators');
      const registrations = () => readdirSync(dir).filter((f) => f.endsWith('.json'));
      expect(registrations()).toEqual([`${serve.pid}.json`]);
      serve.kill('SIGTERM');
      // The wait is on the exit event: before the fix the emulator's server kept serve running forever.
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(registrations()).toEqual([]);
      const port = Number(new URL(started.value.uri).port);
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
    }
  }, 60_000);
});
