import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempHome } from '../../support/cli.js';

// CLI polish met on a new user's first run: the real built CLI, a real occupied port, the real demo kit.
const DEMO = path.join(ROOT, 'assets', 'demo-kit');
const env = { FLIGHTDECK_HOME: tempHome() };

describe('flightdeck on a first run', () => {
  let busy: Server;
  let port = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
  });

  it('ls oci:DIR lists the repositories of a layout, oci:DIR:REPO its tags; an unknown repo is NOT_FOUND naming the folder', async () => {
    const repos = await runCli(['ls', `oci:${DEMO}`, '--json'], { env });
    expect(repos.code, repos.stderr).toBe(0);
    const list = JSON.parse(repos.stdout) as { kind: string; items: string[] };
    expect(list.kind).toBe('repositories');
    expect(list.items).toContain('flight/shared-types/bundles/vita');
    expect(list.items).toContain('flight/shared-types/manifest');

    const tags = await runCli(['ls', `oci:${DEMO}:flight/shared-types/bundles/vita`], { env });
    expect(tags.code, tags.stderr).toBe(0);
    expect(tags.stdout.trim().split('\n')).toEqual(['2026.11.01', 'latest']);

    // A namespace lists the repositories under it, as for a registry.
    const ns = await runCli(['ls', `oci:${DEMO}:flight/shared-types/bundles`, '--json'], { env });
    expect((JSON.parse(ns.stdout) as { items: string[] }).items).toContain('flight/shared-types/bundles/dreamcast');

    const missing = await runCli(['ls', `oci:${DEMO}:flight/nope`], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('error[NOT_FOUND]');
    expect(missing.stderr).toContain(DEMO);
  });

  it('-p dremcast suggests dreamcast', async () => {
    const r = await runCli(['check', path.join(ROOT, 'assets', 'demo-kit-src'), '-p', 'dremcast'], { env });
    expect(r.stderr).toContain('error[PLATFORM_UNKNOWN]');
    expect(r.stderr).toContain('did you mean "dreamcast"?');
    expect(r.stderr).toMatch(/hint: Did you mean dreamcast\?/);
    // Nothing near: no guess.
    const far = await runCli(['check', path.join(ROOT, 'assets', 'demo-kit-src'), '-p', 'gameboy'], { env });
    expect(far.stderr).toContain('error[PLATFORM_UNKNOWN]');
    expect(far.stderr).not.toContain('did you mean');
  });

  it('a missing local file gets a hint about the file, not the ls hint (check and deploy)', async () => {
    const file = path.join(env.FLIGHTDECK_HOME, 'no-such-build.wasm');
    for (const args of [
      ['check', file, '-p', 'vita'],
      ['deploy', file, '--device', 'tcp://127.0.0.1:1'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.stderr, args[0]).toContain('error[NOT_FOUND]');
      expect(r.stderr, args[0]).toContain('No such file on this machine');
      expect(r.stderr, args[0]).not.toContain('`ls`');
    }
  });

  it('serve on a busy port is PORT_IN_USE with exit 3, not an internal error', async () => {
    const r = await runCli(['serve', '--port', String(port)], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error[PORT_IN_USE]');
    expect(r.stderr).toContain(String(port));
    expect(r.stderr).not.toContain('INTERNAL');
  });

  it('doctor exits 0 by default; --strict exits 9 when a capability is missing', async () => {
    // A session bus that does not exist: the keychain is missing by construction.
    const strictEnv = { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
    const plain = await runCli(['doctor', '--json'], { env: strictEnv });
    expect(plain.code).toBe(0);
    const report = JSON.parse(plain.stdout) as { capabilities: Array<{ id: string; status: string }> };
    expect(report.capabilities.find((c) => c.id === 'keychain')?.status).toBe('missing');
    const strict = await runCli(['doctor', '--strict', '--json'], { env: strictEnv });
    expect(strict.code).toBe(9);
  });
});
