import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploy, type DeployResult } from '../../../core/deploy/deploy.js';
import { profileCheck } from '../../../core/deploy/check.js';
import { resolvePaths } from '../../../core/config/paths.js';
import { sha256 } from '../../../core/deploy/payload.js';
import { parseDeviceUri } from '../../../core/deploy/transport.js';
import { openTcp } from '../../../native-bridge/tcp/index.js';
import { CRASH_PHASES, type CrashPhase } from '../../../emulator/faults.js';
import { tempHome } from '../../support/cli.js';
import { readSlots, spawnEmulator, stateDir } from '../../support/emulator.js';
import { codeModule } from '../../support/wasm.js';

const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));

const A = codeModule(2500, 21);
const B = codeModule(2500, 22);

async function deployTo(uri: string, bytes: Buffer): Promise<DeployResult> {
  const u = parseDeviceUri(uri);
  if (u.kind !== 'tcp') throw new Error('tcp only');
  return deploy({ bytes, sha256: sha256(bytes), name: 'p.wasm', platform: 'v6r-medium' }, await openTcp(u.host, u.port, uri), hostCheck, {
    force: false,
    resume: true,
    run: false,
    compression: 'deflate',
    blockSize: 2048,
    window: 4,
    timings: { replyMs: 1500, ackMs: 500, maxRetries: 3 },
  });
}

/** What the next deploy must resume from after a crash at each phase. */
const resumeAfter: Record<CrashPhase, (durable: number) => number> = {
  handshake: () => 0,
  begin: () => 0,
  'mid-block': (durable) => durable,
  end: (durable) => durable,
  verify: () => B.length, // verified in the inactive slot: nothing left to send
  commit: () => B.length,
};

describe.concurrent('the emulator killed at every protocol phase', () => {
  for (const phase of CRASH_PHASES) {
    it(`${phase}: the committed payload stays bootable, the new one commits only verified, the next deploy resumes`, async () => {
      const home = tempHome();
      const env = { FLIGHTDECK_HOME: home };
      const dir = stateDir();
      const args = ['--platform', 'v6r-medium', '--listen', 'tcp://127.0.0.1:0', '--state', dir, '--checkpoint', '4096'];

      const first = await spawnEmulator(args, env);
      await deployTo(first.uri, A);
      await first.stop();

      const crashing = await spawnEmulator([...args, '--crash-at', phase], env);
      await expect(deployTo(crashing.uri, B)).rejects.toMatchObject({ code: expect.stringMatching(/^DEVICE_(DISCONNECTED|TIMEOUT)$/) });
      expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const after = readSlots(dir);
      expect(after.active).toBe('A');
      expect(after.A).toEqual(A);
      // B is in its slot only once fully verified (crash after VERIFY), never active.
      if (phase === 'verify' || phase === 'commit') expect(after.B).toEqual(B);
      else expect(after.B).toBeNull();
      if (phase === 'commit') {
        // Killed between the fsync of the new state and its rename: the switch did not happen.
        expect(JSON.parse(readFileSync(path.join(dir, 'state.json.tmp'), 'utf8'))).toMatchObject({ active: 'B' });
      }
      const durable = after.upload?.durable ?? 0;
      if (phase === 'mid-block') expect(durable).toBeGreaterThan(0);

      const restarted = await spawnEmulator(args, env);
      try {
        const r = await deployTo(restarted.uri, B);
        expect(r.outcome).toBe('committed');
        expect(r.resumedFrom).toBe(resumeAfter[phase](durable));
        expect(readSlots(dir)).toMatchObject({ active: 'B', A, B, upload: null });
      } finally {
        await restarted.stop();
      }
    });
  }
});
