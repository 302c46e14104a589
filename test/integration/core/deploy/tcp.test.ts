import { afterEach, describe, expect, it } from 'vitest';
import { deploy, type DeployOptions } from '../../../../core/deploy/deploy.js';
import { profileCheck } from '../../../../core/deploy/check.js';
import { tempHome } from '../../../../test/support/cli.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { sha256, type Payload } from '../../../../core/deploy/payload.js';
import { HostSession } from '../../../../core/deploy/session.js';
import { parseDeviceUri } from '../../../../core/deploy/transport.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { openTcp } from '../../../../native-bridge/tcp/index.js';
import type { Emulator } from '../../../../emulator/emulator.js';
import { codeModule, wat2wasm } from '../../../support/wasm.js';
import { activePayload, readSlots, stateDir, tcpEmulator } from '../../../support/emulator.js';

const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));

const started: Emulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

async function emulator(opts: Parameters<typeof tcpEmulator>[0]): Promise<Emulator> {
  const e = await tcpEmulator(opts);
  started.push(e);
  return e;
}

function connect(uri: string) {
  const u = parseDeviceUri(uri);
  if (u.kind !== 'tcp') throw new Error('tcp only');
  return openTcp(u.host, u.port, uri);
}

function payload(bytes: Buffer, platform?: string): Payload {
  return { bytes, sha256: sha256(bytes), name: 'test.wasm', platform };
}

const FAST = { replyMs: 1000, ackMs: 150, maxRetries: 30 };
const base: DeployOptions = { force: false, resume: true, run: false, compression: 'auto', timings: FAST };

async function deployTo(uri: string, bytes: Buffer, opts: Partial<DeployOptions> = {}) {
  return deploy(payload(bytes), await connect(uri), hostCheck, { ...base, ...opts });
}

async function rejection(p: Promise<unknown>): Promise<FlightDeckError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  return err as FlightDeckError;
}

const A = codeModule(3000, 1);
const B = codeModule(3000, 2);

describe('deploy over TCP to the emulator', () => {
  it('commits into the inactive slot, switches A/B, keeps the previous payload for rollback', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir });
    const first = await deployTo(e.uri, A, { compression: 'deflate' });
    expect(first).toMatchObject({ outcome: 'committed', slot: 'A', resumedFrom: 0, size: A.length, compression: 'deflate' });
    expect(first.state.active).toBe('A');
    expect(readSlots(dir)).toMatchObject({ active: 'A', A, B: null, upload: null });

    const second = await deployTo(e.uri, B, { compression: 'br' });
    expect(second).toMatchObject({ outcome: 'committed', slot: 'B' });
    expect(readSlots(dir)).toMatchObject({ active: 'B', A, B });

    const again = await deployTo(e.uri, B);
    expect(again.outcome).toBe('already-active');
    expect(again.wireBytes).toBe(0);

    const session = await HostSession.open(await connect(e.uri), { timings: FAST });
    try {
      const status = await session.status();
      expect(status).toMatchObject({ platform: 'v6r-small', active: 'B', slots: { A: { sha256: sha256(A), size: A.length }, B: { sha256: sha256(B) } } });
      const rolled = await session.rollback();
      expect(rolled.active).toBe('A');
    } finally {
      await session.close();
    }
    expect(activePayload(dir)).toEqual(A);
    expect(readSlots(dir).B).toEqual(B);
  });

  it('corrects random corruption and drops in both directions with retries', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir, faults: { corrupt: 5e-5, drop: 5e-5, seed: 7 } });
    const r = await deployTo(e.uri, A, { blockSize: 4096, window: 8 });
    expect(r.outcome).toBe('committed');
    expect(r.retries).toBeGreaterThan(0);
    expect(activePayload(dir)).toEqual(A);
  });

  it('resumes after a pulled cable from the last durable block, and --no-resume starts over', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir, faults: { disconnectAfter: Math.floor(A.length * 0.6) }, checkpointBytes: 8192 });
    const err = await rejection(deployTo(e.uri, A, { blockSize: 4096, window: 4 }));
    expect(['DEVICE_DISCONNECTED', 'DEVICE_TIMEOUT']).toContain(err.code);
    const journal = readSlots(dir).upload;
    expect(journal).toMatchObject({ sha256: sha256(A), size: A.length, slot: 'A' });
    expect(journal!.durable).toBeGreaterThan(0);
    expect(readSlots(dir).active).toBeNull();

    const resumed = await deployTo(e.uri, A, { blockSize: 4096, window: 4 });
    expect(resumed.outcome).toBe('committed');
    expect(resumed.resumedFrom).toBeGreaterThanOrEqual(journal!.durable);
    expect(resumed.resumedFrom).toBeLessThan(A.length);
    expect(resumed.wireBytes).toBeLessThan(A.length - journal!.durable + 4096);
    expect(activePayload(dir)).toEqual(A);

    const fresh = await deployTo(e.uri, B, { resume: false });
    expect(fresh.resumedFrom).toBe(0);
    expect(readSlots(dir)).toMatchObject({ active: 'B', A, B });
  });

  // Pull the cable at byte offsets that land in the handshake, BEGIN, the upload and its last block.
  it.each([
    ['handshake', 3],
    ['begin', 40],
    ['mid-block', Math.floor(A.length / 3)],
    ['the last block', Math.floor(A.length * 0.97)],
  ])('a disconnect during %s leaves the committed payload and the next deploy completes', async (_phase, at) => {
    const dir = stateDir();
    const clean = await emulator({ stateDir: dir });
    await deployTo(clean.uri, A, { compression: 'none' });
    await clean.close();
    const e = await emulator({ stateDir: dir, faults: { disconnectAfter: at } });
    const err = await rejection(deployTo(e.uri, B, { compression: 'none', blockSize: 4096 }));
    expect(['DEVICE_DISCONNECTED', 'DEVICE_TIMEOUT']).toContain(err.code);
    expect(readSlots(dir)).toMatchObject({ active: 'A', A, B: null });
    const durable = readSlots(dir).upload?.durable ?? 0;
    const r = await deployTo(e.uri, B, { compression: 'none', blockSize: 4096 });
    expect(r.resumedFrom).toBe(durable);
    expect(readSlots(dir)).toMatchObject({ active: 'B', A, B, upload: null });
  });

  it('the device verifies the whole SHA-256 before a slot changes: a mismatch is discarded, nothing commits', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir });
    await deployTo(e.uri, A);
    const session = await HostSession.open(await connect(e.uri), { timings: FAST });
    try {
      // Every frame is intact, but the bytes are not the payload the host announced.
      const announced = sha256(Buffer.concat([B, Buffer.from([1])]));
      const up = await session.upload(B, announced, { compression: 'none', fresh: false });
      expect(up.done).toBe(B.length);
      const err = await rejection(session.verify(sha256(B), B.length));
      expect(err.code).toBe('DEVICE_VERIFY_FAILED');
      expect(err.message).toContain(`hashes to sha256:${sha256(B)}`);
      await expect(session.commit(sha256(B), up.upload)).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
    } finally {
      await session.close();
    }
    expect(readSlots(dir)).toMatchObject({ active: 'A', A, B: null, upload: null });
  });

  it('refuses a device of another platform before sending a byte of the payload', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir, platform: 'dreamcast' });
    const err = await rejection(deployTo(e.uri, A, { platform: 'vita' }));
    expect(err.code).toBe('DEVICE_PLATFORM_MISMATCH');
    expect(err.message).toContain('dreamcast');
    expect(readSlots(dir)).toMatchObject({ active: null, upload: null });
  });

  it('refuses a payload over the memory limit on the host, and the device refuses it too with --force', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir, platform: 'dreamcast' });
    await deployTo(e.uri, A);
    const big = wat2wasm('(module (memory (export "memory") 512 1024))'); // 32 MiB > Dreamcast's 16 MiB
    const err = await rejection(deployTo(e.uri, big));
    expect(err.code).toBe('PAYLOAD_CHECK_FAILED');
    expect(err.message).toMatch(/\[memory.initial-exceeds-budget\] .*32(\.00)? MiB/);
    expect(readSlots(dir).upload).toBeNull();

    const forced = await rejection(deployTo(e.uri, big, { force: true }));
    expect(forced.code).toBe('DEVICE_REFUSED');
    expect(forced.message).toMatch(/does not fit Sega Dreamcast/);
    expect(readSlots(dir)).toMatchObject({ active: 'A', A, B: null, upload: null });

    const threads = wat2wasm('(module (memory (export "memory") 1 4 shared))', ['--enable-threads']);
    const t = await rejection(deployTo(e.uri, threads));
    expect(t.code).toBe('PAYLOAD_CHECK_FAILED');
    expect(t.message).toMatch(/\[threads.unsupported\]/);
  });

  // Issue 15: the device looked at exported memories of an instance only, and at none when the start trapped.
  it('with --force the device refuses an unexported 64 MiB memory and one behind a trapping start function', async () => {
    const dir = stateDir();
    const e = await emulator({ stateDir: dir, platform: 'dreamcast' });
    await deployTo(e.uri, A);
    for (const wat of ['(module (memory 1024 1024))', '(module (memory (export "memory") 1024 1024) (func $s unreachable) (start $s))']) {
      const forced = await rejection(deployTo(e.uri, wat2wasm(wat), { force: true }));
      expect(forced.code).toBe('DEVICE_REFUSED');
      expect(forced.message).toMatch(/does not fit Sega Dreamcast .*memory 0 starts at 67108864 bytes/);
      expect(readSlots(dir)).toMatchObject({ active: 'A', A, B: null, upload: null });
    }
  });
});
