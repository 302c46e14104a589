/**
 * Issue 21: the places where docs/protocol.md and the host/emulator disagreed, or where the spec let a
 * device vendor guess. Driven through the real host session against an in-process reference device.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { profileCheck } from '../../../../core/deploy/check.js';
import { deploy, deltaBlockSize, type DeployOptions } from '../../../../core/deploy/deploy.js';
import { encodeFrame, FrameDecoder } from '../../../../core/deploy/framing.js';
import { FrameLink } from '../../../../core/deploy/link.js';
import { sha256, type Payload } from '../../../../core/deploy/payload.js';
import { json, Msg, PROTOCOL_CONSTANTS as C } from '../../../../core/deploy/protocol.js';
import { HostSession } from '../../../../core/deploy/session.js';
import type { ByteTransport } from '../../../../core/deploy/transport.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { Device } from '../../../../emulator/device.js';
import { inProcessDevice, memoryPair, TEST_LIMITS, type InProcessDevice } from '../../../support/device.js';
import { readSlots } from '../../../support/emulator.js';
import { tempHome } from '../../../support/cli.js';
import { codeModule, withCustomSection } from '../../../support/wasm.js';

const P1 = codeModule(200, 1);
const P2 = codeModule(200, 2);
// A dropped reply costs one replyMs: short, since the device answers at once when it answers at all.
const T = { replyMs: 300, ackMs: 500, maxRetries: 10 };
const sessions: HostSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => {})));
});

async function host(d: InProcessDevice): Promise<HostSession> {
  const s = await HostSession.open(d.connect().transport, { timings: T });
  sessions.push(s);
  return s;
}

async function deployOn(s: HostSession, payload: Buffer): Promise<void> {
  const up = await s.upload(payload, sha256(payload), { compression: 'none', fresh: false });
  await s.verify(sha256(payload), payload.length, up.upload);
  await s.commit(sha256(payload), up.upload);
}

async function failure(p: Promise<unknown>): Promise<FlightDeckError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  return err as FlightDeckError;
}

describe('ROLLBACK is safe to retry (issue 21)', () => {
  it('a lost STATE reply and the resent ROLLBACK leave the previous payload active, not swapped back', async () => {
    const d = inProcessDevice({ dropReplies: { ROLLBACK: 1 } });
    const s = await host(d);
    await deployOn(s, P1);
    await deployOn(s, P2);
    expect(readSlots(d.dir)).toMatchObject({ active: 'B', A: P1, B: P2 });
    const state = await s.rollback();
    expect(d.logs).toContain('fault: dropped the STATE reply');
    // The old ROLLBACK {} swapped on each copy: A, then B again, and the host reported success.
    expect(state.active).toBe('A');
    expect(readSlots(d.dir).active).toBe('A');
  });

  it('names its target: a ROLLBACK to a payload the device does not hold is refused and changes nothing', async () => {
    const d = inProcessDevice();
    const s = await host(d);
    await deployOn(s, P1);
    await deployOn(s, P2);
    await s.link.send(Msg.ROLLBACK, json({ sha256: 'f'.repeat(64) }));
    const refused = await s.link.next(2000);
    expect(refused.type).toBe(Msg.ERROR);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'REFUSED' });
    await s.link.send(Msg.ROLLBACK, json({}));
    const malformed = await s.link.next(2000);
    expect(JSON.parse(malformed.body.toString())).toMatchObject({ code: 'PROTOCOL' });
    expect(readSlots(d.dir).active).toBe('B');
  });

  it("another host's deploy makes ROLLBACK busy; with no previous payload the host refuses before asking", async () => {
    const d = inProcessDevice();
    const a = await host(d);
    const b = await host(d);
    expect((await failure(b.rollback())).code).toBe('DEVICE_REFUSED');
    await deployOn(a, P1);
    await deployOn(a, P2);
    await a.upload(P1, sha256(P1), { compression: 'none', fresh: false }); // a holds the claim
    expect((await failure(b.rollback())).code).toBe('DEVICE_BUSY');
    expect(readSlots(d.dir).active).toBe('B');
  });
});

const payload = (bytes: Buffer, name = 'payload.wasm'): Payload => ({ name, bytes, sha256: sha256(bytes), platform: undefined });
const OPTS: DeployOptions = { force: false, resume: true, run: false, compression: 'none', timings: T };
const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));

/** The host's end of a connection, with every frame it writes measured (one write is one frame). */
function measured(t: ByteTransport): { transport: ByteTransport; frames: number[] } {
  const frames: number[] = [];
  return {
    frames,
    transport: {
      ...t,
      write: async (data) => {
        frames.push(data.length);
        await t.write(data);
      },
    },
  };
}

describe('maxFrame counts wire bytes (issue 21)', () => {
  it('an incompressible block of 0xC0 bytes goes as DATA frames that never exceed the device maxFrame once escaped', async () => {
    const d = inProcessDevice({ maxFrame: 4096 });
    const big = withCustomSection(codeModule(20, 3), 'fill', Buffer.alloc(40_000, 0xc0));
    const m = measured(d.connect().transport);
    const s = await HostSession.open(m.transport, { timings: { ...T, maxRetries: 2 } });
    sessions.push(s);
    expect(s.info.maxFrame).toBe(4096);
    await deployOn(s, big);
    expect(readSlots(d.dir)).toMatchObject({ active: 'A', A: big });
    // The old host sent blocks of maxFrame - 64 raw bytes: 8 KB on the wire once escaped, which the device drops.
    expect(Math.max(...m.frames)).toBeLessThanOrEqual(4096);
    expect(m.frames.length).toBeGreaterThan(Math.ceil(big.length / (4096 - 64)));
  });

  it('a receiver drops a frame longer than its maxFrame in wire bytes, however short its raw body', () => {
    const body = Buffer.alloc(1000, 0xdb); // 1005 raw bytes, over 2000 on the wire
    const wire = encodeFrame(Msg.DATA, body);
    expect(wire.length).toBeGreaterThan(2000);
    const tight = new FrameDecoder(wire.length - 1);
    expect(tight.push(wire)).toEqual([]);
    expect(tight.dropped).toBe(1);
    expect(new FrameDecoder(wire.length).push(wire)).toHaveLength(1);
  });

  it('BLOCKS is bounded: the planner asks for at most maxBlockHashes blocks, and that many hex hashes fit the host frame', () => {
    for (const size of [1, 4096 * 4096, 4096 * 4096 + 1, 3 << 30]) expect(Math.ceil(size / deltaBlockSize(size))).toBeLessThanOrEqual(C.maxBlockHashes);
    const hashes = Array.from({ length: C.maxBlockHashes }, () => randomBytes(32).toString('hex'));
    const frame = encodeFrame(Msg.BLOCKS, json({ sha256: 'a'.repeat(64), size: 2 ** 32 - 1, blockSize: 2 ** 20, hashes }));
    expect(frame.length).toBeLessThanOrEqual(C.hostMaxFrame);
  });
});

describe('the host honours the limits the device announces in INFO (issue 21)', () => {
  it('a device that says 1 MiB gets no byte of a payload whose memory starts at 2 MiB, though the profile allows it', async () => {
    const d = inProcessDevice({ limits: { ...TEST_LIMITS, memory: 1 << 20 } });
    const wide = codeModule(20, 4, 32); // 32 pages: 2 MiB of initial memory; v6r-small gives 112 MiB
    const err = await failure(deploy(payload(wide), d.connect().transport, hostCheck, OPTS));
    // The old host checked only the built-in profile, sent the payload, and the device refused it at END.
    expect(err.code).toBe('PAYLOAD_CHECK_FAILED');
    expect(err.message).toMatch(/\[device\.memory\] memory 0 starts at 2097152 bytes; .*INFO: 1048576 bytes/);
    expect(d.logs.some((l) => l.startsWith('BEGIN'))).toBe(false);
  });

  it('threads too: a shared memory is refused before sending when INFO says one thread', async () => {
    const d = inProcessDevice({ limits: { ...TEST_LIMITS, threads: 1 } });
    const { wat2wasm } = await import('../../../support/wasm.js');
    const shared = wat2wasm('(module (memory (export "memory") 1 2 shared))', ['--enable-threads']);
    const err = await failure(deploy(payload(shared), d.connect().transport, hostCheck, OPTS));
    expect(err.code).toBe('PAYLOAD_CHECK_FAILED');
    expect(err.message).toContain('[device.threads]');
  });
});

describe('typed messages: a malformed device reply names the field and the problem (issue 21)', () => {
  /** A device that answers HELLO with this INFO body. */
  function fakeDevice(info: unknown): ByteTransport {
    const [host, dev] = memoryPair('memory://fake');
    const link = new FrameLink(dev, 4096);
    void (async () => {
      for (;;) {
        const f = await link.next(10_000).catch(() => undefined);
        if (!f) return;
        if (f.type === Msg.HELLO) await link.send(Msg.INFO, json(info));
      }
    })();
    return host;
  }
  const device = new Device({
    limits: TEST_LIMITS,
    store: undefined as never,
    firmware: 'x',
    checkpointBytes: 1,
    crash: () => {},
  });

  it('INFO.lineRate: expected number, got null', async () => {
    const err = await failure(HostSession.open(fakeDevice({ ...device.info(), lineRate: null }), { timings: T }));
    expect(err.code).toBe('DEVICE_PROTOCOL_ERROR');
    expect(err.message).toContain('INFO.lineRate: expected number, got null');
  });

  it('an enum, a missing field and an array item are named as well', async () => {
    const info = { ...device.info(), compression: ['none', 'zip'] } as Record<string, unknown>;
    delete info.memory;
    const err = await failure(HostSession.open(fakeDevice(info), { timings: T }));
    expect(err.message).toContain('INFO.memory: required (number), got nothing');
    expect(err.message).toContain('INFO.compression.1: expected one of none|deflate|br, got "zip"');
  });
});

describe('fast reflash after a cut delta upload (issue 21)', () => {
  it('the next deploy plans a delta again (the spec: a delta is not resumed, it starts over as a delta)', async () => {
    const d = inProcessDevice();
    const pad = randomBytes(64 << 10);
    const base = withCustomSection(codeModule(20, 5), 'pad', pad);
    const changed = Buffer.from(pad);
    changed[100] = changed[100]! ^ 1;
    changed[40_000] = changed[40_000]! ^ 1;
    const next = withCustomSection(codeModule(20, 5), 'pad', changed);
    expect((await deploy(payload(base), d.connect().transport, hostCheck, OPTS)).transfer).toBe('full');
    // Cut the delta upload at its first acknowledged block.
    const cut = d.connect();
    const first = await failure(
      deploy(payload(next), cut.transport, hostCheck, {
        ...OPTS,
        onProgress: (p) => {
          if (p.done > 0) void cut.transport.close();
        },
      }),
    );
    expect(first.code).toBe('DEVICE_DISCONNECTED');
    expect(readSlots(d.dir).upload).toMatchObject({ sha256: sha256(next), durable: 0 });
    const again = await deploy(payload(next), d.connect().transport, hostCheck, OPTS);
    // The old host saw "an upload of this payload to resume", sent BEGIN without delta and the whole payload from 0.
    expect(again.transfer).toBe('delta');
    expect(again.wireBytes).toBeLessThan(next.length / 4);
    expect(readSlots(d.dir)).toMatchObject({ active: 'B', B: next });
  });
});

describe('NAK after a bad frame (issue 21)', () => {
  it('a damaged DATA frame mid-upload is NAKed at once, with nothing else sent after it', async () => {
    const d = inProcessDevice();
    const s = await host(d);
    const p = withCustomSection(codeModule(20, 6), 'pad', randomBytes(16 << 10));
    await s.link.send(Msg.BEGIN, json({ sha256: sha256(p), size: p.length, blockSize: 4096, compression: 'none', fresh: true }));
    expect((await s.link.next(2000)).type).toBe(Msg.READY);
    const { encodeData } = await import('../../../../core/deploy/protocol.js');
    await s.link.send(Msg.DATA, encodeData(0, p.subarray(0, 4096), 'none'));
    expect((await s.link.next(2000)).type).toBe(Msg.ACK);
    const bad = encodeFrame(Msg.DATA, encodeData(4096, p.subarray(4096, 8192), 'none'));
    bad[bad.length >> 1] = bad[bad.length >> 1] === 0 ? 1 : 0;
    await s.link.sendFrame(bad);
    // The old device looked at its drop count only when the next good frame arrived: the host waited ackMs.
    const nak = await s.link.nextOrTimeout(2000);
    expect(nak?.type).toBe(Msg.NAK);
    expect(nak?.body.readUInt32LE(0)).toBe(4096);
  });
});

describe('BLOCKS is bounded on the device too (issue 21)', () => {
  it('HASHES that would need more than maxBlockHashes blocks is refused with PROTOCOL naming the field', async () => {
    const d = inProcessDevice();
    const s = await host(d);
    const big = withCustomSection(codeModule(10, 7), 'pad', randomBytes(C.maxBlockHashes * 512 + 4096));
    await deployOn(s, big);
    await s.link.send(Msg.HASHES, json({ blockSize: 512 }));
    const refused = await s.link.next(2000);
    expect(refused.type).toBe(Msg.ERROR);
    expect(JSON.parse(refused.body.toString())).toMatchObject({
      code: 'PROTOCOL',
      message: expect.stringContaining('HASHES.blockSize: 512 makes more than 4096 blocks'),
    });
    await s.link.send(Msg.HASHES, json({ blockSize: 1024 }));
    const ok = await s.link.next(2000);
    expect(ok.type).toBe(Msg.BLOCKS);
    expect(ok.body.length + 16).toBeLessThanOrEqual(C.hostMaxFrame);
  });
});
