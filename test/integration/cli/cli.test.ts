import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import { BIN, ROOT, runCli, tempHome } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { freePort } from '../../support/ports.js';
import { ERROR_TABLE } from '../../../core/errors.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('flightdeck CLI frame', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('a reader that closes stdout early (`| head -1`) ends the CLI quietly with exit 0, no EPIPE trace', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Hang up before the CLI writes, as `head -1` does when it has its line.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it('output that cannot be written (stdout on a full disk) is error[IO_ERROR] with its exit code', async () => {
    if (!existsSync('/dev/full')) return;
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', full, 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(ERROR_TABLE.IO_ERROR.exit);
      expect(stderr).toMatch(/^error\[IO_ERROR\]: Cannot write the output: ENOSPC/m);
    } finally {
      closeSync(full);
    }
  });

  it('--help lists the commands, the global options and examples', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['doctor', 'serve', '--json', '--quiet', '--verbose', '--no-color', '--no-progress', 'Examples:']) {
      expect(r.stdout).toContain(word);
    }
    const sub = await runCli(['doctor', '--help']);
    expect(sub.stdout).toContain('flightdeck doctor --registry');
  });

  it('an unknown command is error[USAGE] with a hint and the usage exit code', async () => {
    const r = await runCli(['fly-to-the-moon']);
    expect(r.code).toBe(ERROR_TABLE.USAGE.exit);
    expect(r.stderr).toMatch(/^error\[USAGE\]: Unknown command 'fly-to-the-moon'/m);
    expect(r.stderr).toContain('hint:');
    expect(r.stdout).toBe('');
  });

  it('an unknown option under --json gives one JSON error document on stdout', async () => {
    const r = await runCli(['doctor', '--json', '--frobnicate']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.message).toContain('--frobnicate');
    expect(doc.error.hint).toBeTruthy();
  });

  it('a broken config.json is CONFIG_INVALID naming the file, not a crash', async () => {
    const home = tempHome();
    mkdirSync(path.join(home, 'config'), { recursive: true });
    writeFileSync(path.join(home, 'config', 'config.json'), '{ "registries": [ nope ');
    const r = await runCli(['doctor'], { env: { FLIGHTDECK_HOME: home } });
    expect(r.code).toBe(ERROR_TABLE.CONFIG_INVALID.exit);
    expect(r.stderr).toContain('error[CONFIG_INVALID]');
    expect(r.stderr).toContain(path.join(home, 'config', 'config.json'));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('flightdeck doctor', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  it('reports every capability, with a code and hint for the missing ones (--json)', async () => {
    const home = tempHome();
    const closed = await freePort();
    const r = await runCli(['doctor', '--json', '--registry', registry.host, '--registry', `127.0.0.1:${closed}`], {
      env: { FLIGHTDECK_HOME: home },
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      version: string;
      paths: { config: string; data: string };
      capabilities: Array<{ id: string; status: string; summary: string; code?: string; hint?: string }>;
    };
    expect(report.version).toBe(pkg.version);
    expect(report.paths.config).toBe(path.join(home, 'config'));
    expect(report.capabilities.map((c) => c.id).sort()).toEqual(['electron', 'keychain', 'registry', 'serial', 'usb']);
    for (const c of report.capabilities) {
      if (c.status !== 'ok') expect(c.hint, c.id).toBeTruthy();
    }
    const reg = report.capabilities.find((c) => c.id === 'registry')!;
    expect(reg.status).toBe('missing');
    expect(reg.code).toBe('REGISTRY_UNREACHABLE');
    expect(reg.summary).toContain(`127.0.0.1:${closed}`);
    expect(reg.summary).not.toContain(registry.host);
  });

  it('says a real registry answers, in human form', async () => {
    const r = await runCli(['doctor', '--registry', registry.host], { env: { FLIGHTDECK_HOME: tempHome() } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`ok\\s+Registry reachability\\s+1 registry answering: ${registry.host.replace(/\./g, '\\.')}`));
    expect(r.stdout).toContain('Flight Deck');
  });

  it('reports the Electron binary as unavailable here, with the browser fallback as the fix', async () => {
    const r = await runCli(['doctor', '--json'], { env: { FLIGHTDECK_HOME: tempHome(), ELECTRON_OVERRIDE_DIST_PATH: path.join(tempHome(), 'none') } });
    const report = JSON.parse(r.stdout) as { capabilities: Array<{ id: string; status: string; code?: string; hint?: string }> };
    const electron = report.capabilities.find((c) => c.id === 'electron')!;
    expect(electron).toMatchObject({ status: 'warn', code: 'ELECTRON_UNAVAILABLE' });
  });
});
