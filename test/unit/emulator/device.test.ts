import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameLink } from '../../../core/deploy/link.js';
import { sha256 } from '../../../core/deploy/payload.js';
import { ErrorSchema, json, Msg, parseBody, ReadySchema } from '../../../core/deploy/protocol.js';
import { HostSession } from '../../../core/deploy/session.js';
import { FlightDeckError } from '../../../core/errors.js';
import { inProcessDevice, type InProcessDevice } from '../../support/device.js';
import { readSlots } from '../../support/emulator.js';
import { codeModule } from '../../support/wasm.js';

const P1 = codeModule(200, 1);
const P2 = codeModule(200, 2);
const T = { replyMs: 2000, ackMs: 500, maxRetries: 10 };
const sessions: HostSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => {})));
});

async function host(d: InProcessDevice): Promise<HostSession> {
  const s = await HostSession.open(d.connect().transport, { timings: T });
  sessions.push(s);
  return s;
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  return (err as FlightDeckError).code;
}

describe('two hosts, one device (issue 15)', () => {
  it("from BEGIN to COMMIT the device is one host's: the other gets DEVICE_BUSY mid-upload and between END and COMMIT", async () => {
    const d = inProcessDevice();
    const a = await host(d);
    const b = await host(d);
    const up = await a.upload(P1, sha256(P1), { compression: 'none', fresh: false });
    expect(up.upload).toMatch(/^[0-9a-f]{32}$/);
    expect(await code(b.upload(P2, sha256(P2), { compression: 'none', fresh: false }))).toBe('DEVICE_BUSY');
    await a.verify(sha256(P1), P1.length, up.upload);
    // The window where the old device let a second host empty the verified slot under the first one.
    const busy = await b.upload(P2, sha256(P2), { compression: 'none', fresh: false }).catch((e: FlightDeckError) => e);
    expect(busy).toMatchObject({ code: 'DEVICE_BUSY' });
    expect((busy as FlightDeckError).message).toMatch(/another host is deploying sha256:[0-9a-f]{12} to this device; BEGIN refused/);
    expect(await code(b.commit(sha256(P1), up.upload))).toBe('DEVICE_BUSY');
    // Nothing is active yet, so there is no previous payload to name in ROLLBACK (issue 21: it names its target).
    expect(await code(b.rollback())).toBe('DEVICE_REFUSED');
    const state = await a.commit(sha256(P1), up.upload);
    expect(state.active).toBe('A');
    expect(readSlots(d.dir)).toMatchObject({ active: 'A', A: P1 });
    // Committed: the device is free again.
    const next = await b.upload(P2, sha256(P2), { compression: 'none', fresh: false });
    await b.verify(sha256(P2), P2.length, next.upload);
    expect((await b.commit(sha256(P2), next.upload)).active).toBe('B');
  });

  it('a COMMIT names its upload: a stale COMMIT of an earlier upload does not switch back, a resent one is answered again', async () => {
    const d = inProcessDevice();
    const a = await host(d);
    const upA = await a.upload(P1, sha256(P1), { compression: 'none', fresh: false });
    await a.verify(sha256(P1), P1.length, upA.upload);
    await a.commit(sha256(P1), upA.upload);
    expect((await a.commit(sha256(P1), upA.upload)).active).toBe('A'); // COMMITTED lost, COMMIT resent
    const b = await host(d);
    const upB = await b.upload(P2, sha256(P2), { compression: 'none', fresh: false });
    await b.verify(sha256(P2), P2.length, upB.upload);
    await b.commit(sha256(P2), upB.upload);
    // A's COMMIT arrives again after B's deploy: it must not make A's old payload active again.
    expect(await code(a.commit(sha256(P1), upA.upload))).toBe('DEVICE_REFUSED');
    expect(readSlots(d.dir)).toMatchObject({ active: 'B', B: P2 });
    // Nor can a host commit an upload it did not make.
    const c = await host(d);
    expect(await code(c.commit(sha256(P1), upB.upload))).toBe('DEVICE_REFUSED');
  });

  it('a host that disconnects frees the device; the next host resumes its upload', async () => {
    const d = inProcessDevice();
    const first = d.connect();
    const a = await HostSession.open(first.transport, { timings: T });
    await a.upload(P1, sha256(P1), { compression: 'none', fresh: false, blockSize: 512 });
    await a.close();
    await first.served;
    const b = await host(d);
    const up = await b.upload(P1, sha256(P1), { compression: 'none', fresh: false });
    expect(up.resumedFrom).toBe(P1.length);
    await b.verify(sha256(P1), P1.length, up.upload);
    expect((await b.commit(sha256(P1), up.upload)).active).toBe('A');
  });
});

describe('DATA decompression bound (issue 15)', () => {
  it('refuses a block that would inflate past the block size or the space left, whatever rawLength says', async () => {
    const d = inProcessDevice();
    const link = new FrameLink(d.connect().transport, 1 << 20);
    const next = async (type: number) => {
      for (;;) {
        const f = await link.next(2000);
        if (f.type === type) return f;
        if (f.type === Msg.ERROR) throw new Error(JSON.stringify(parseBody(ErrorSchema, f.body)));
      }
    };
    const size = 256 << 10;
    const payload = Buffer.alloc(size);
    await link.send(Msg.BEGIN, json({ sha256: sha256(payload), size, blockSize: 4096, compression: 'deflate', fresh: true }));
    expect(parseBody(ReadySchema, (await next(Msg.READY)).body)).toMatchObject({ state: 'upload', offset: 0 });
    // 64 KiB of zeros deflate to a few hundred bytes: an honest rawLength, but 16 times the block size.
    const bomb = deflateRawSync(Buffer.alloc(64 << 10));
    const data = Buffer.alloc(9 + bomb.length);
    data.writeUInt32LE(0, 0);
    data.writeUInt32LE(64 << 10, 4);
    data[8] = 1;
    bomb.copy(data, 9);
    await link.send(Msg.DATA, data);
    expect((await next(Msg.NAK)).body.readUInt32LE(0)).toBe(0);
    // A block within the block size is taken.
    const ok = deflateRawSync(Buffer.alloc(4096));
    const good = Buffer.alloc(9 + ok.length);
    good.writeUInt32LE(0, 0);
    good.writeUInt32LE(4096, 4);
    good[8] = 1;
    ok.copy(good, 9);
    await link.send(Msg.DATA, good);
    expect((await next(Msg.ACK)).body.readUInt32LE(0)).toBe(4096);
    await link.close();
  });
});
