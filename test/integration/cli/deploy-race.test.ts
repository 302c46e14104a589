/**
 * Issue 15: two real `flightdeck deploy` processes against one real emulator process. The race is made by
 * construction: the emulator holds the first upload after its first block (--fault-hold) until another
 * host is answered, and (TCP) the test stops the first host (SIGSTOP) while the second one runs, so both
 * hosts are surely mid-deploy at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../core/config/paths.js';
import { sha256 } from '../../../core/deploy/payload.js';
import { listReceipts } from '../../../core/deploy/receipts.js';
import { BIN, ROOT, runCli, tempHome } from '../../support/cli.js';
import { activePayload, spawnEmulator, stateDir } from '../../support/emulator.js';
import { waitFor } from '../../support/ports.js';
import { HostSession } from '../../../core/deploy/session.js';
import { openSerial } from '../../../native-bridge/serial/index.js';
import { ptyPair } from '../../support/pty.js';
import { codeModule } from '../../support/wasm.js';

const ROUNDS = 3;

function startDeploy(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'deploy', ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

/** The code of the error document `--json` prints (pretty-printed) at the end of stderr. */
function errorCode(stderr: string): string | undefined {
  const at = stderr.lastIndexOf('{\n  "error"');
  if (at < 0) return undefined;
  return (JSON.parse(stderr.slice(at)) as { error: { code: string } }).error.code;
}

describe('two hosts deploying to one device (real processes)', () => {
  it(`TCP: the second host gets DEVICE_BUSY, the first commits, one "committed" receipt (${ROUNDS} rounds)`, async () => {
    const home = tempHome();
    const env = { FLIGHTDECK_HOME: home };
    const dir = stateDir();
    const work = path.join(home, 'payloads');
    mkdirSync(work, { recursive: true });
    for (let round = 0; round < ROUNDS; round++) {
      const first = path.join(work, `first-${round}.wasm`);
      const second = path.join(work, `second-${round}.wasm`);
      const a = codeModule(20000, 100 + round);
      writeFileSync(first, a);
      writeFileSync(second, codeModule(20000, 200 + round));
      // A fresh emulator process on the same state directory re-arms the hold each round.
      const emu = await spawnEmulator(['--platform', 'vita', '--state', dir, '--fault-hold', '--verbose'], env);
      try {
        const host1 = startDeploy([first, '--device', emu.uri], env);
        await waitFor(async () => emu.stderr().includes('holding the upload'), 'the first upload held');
        process.kill(host1.child.pid!, 'SIGSTOP');
        const host2 = await runCli(['deploy', second, '--device', emu.uri, '--json'], { env, timeoutMs: 60_000 });
        process.kill(host1.child.pid!, 'SIGCONT');
        expect(host2.code, host2.stderr).toBe(8);
        expect(errorCode(host2.stdout), host2.stdout + host2.stderr.slice(-1500)).toBe('DEVICE_BUSY');
        expect(host2.stdout).toContain('another host is deploying');
        const r1 = await host1.done;
        expect(r1.code, r1.stderr).toBe(0);
        expect(JSON.parse(r1.stdout)).toMatchObject({ outcome: 'committed', sha256: sha256(a) });
        expect(activePayload(dir)).toEqual(a);
      } finally {
        await emu.stop();
      }
    }
    const receipts = await listReceipts(resolvePaths(env));
    expect(receipts.map((r) => [r.outcome, r.payload.name])).toEqual(Array.from({ length: ROUNDS }, (_, i) => ['committed', `first-${ROUNDS - 1 - i}.wasm`]));
    expect(receipts.every((r) => r.reported.matches)).toBe(true);
  }, 180_000);

  it('serial (pty pair): while one host holds the port, `flightdeck deploy` gets DEVICE_BUSY; then it deploys', async () => {
    const home = tempHome();
    const env = { FLIGHTDECK_HOME: home };
    const dir = stateDir();
    const pty = await ptyPair();
    const emu = await spawnEmulator(['--platform', 'vita', '--serial', pty.device, '--state', dir], env);
    try {
      const a = codeModule(3000, 300);
      const file = path.join(home, 'app.wasm');
      writeFileSync(file, a);
      const uri = `serial://${pty.host}?baud=115200`;
      // The first host: a session on the port, open for the whole of the second host's attempt.
      const first = await HostSession.open(await openSerial(pty.host, 115200));
      try {
        const second = await runCli(['deploy', file, '--device', uri, '--json'], { env, timeoutMs: 60_000 });
        expect(second.code, second.stderr).toBe(8);
        expect(errorCode(second.stdout), second.stdout).toBe('DEVICE_BUSY');
        expect(second.stdout).toContain('another program holds the port');
      } finally {
        await first.close();
      }
      const r = await runCli(['deploy', file, '--device', uri, '--json'], { env, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(activePayload(dir)).toEqual(a);
      expect((await listReceipts(resolvePaths(env))).map((x) => [x.outcome, x.payload.name])).toEqual([['committed', 'app.wasm']]);
    } finally {
      await emu.stop();
      await pty.close();
    }
  }, 120_000);
});
