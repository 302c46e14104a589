import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebHost, WS_MAX_BUFFERED, type WebHost } from '../../../../cli/serve/web-host.js';
import { createHandlers } from '../../../../core/api/service.js';
import type { Handlers } from '../../../../core/api/dispatch.js';
import { nativeApiDeps } from '../../../../composition/deps.js';
import { clientFrame, closeFrame, exchange, handshakeRequest, readAnswer, runWsFuzz } from '../../../support/ws-raw.js';

// The web host in-process (the same startWebHost `flightdeck serve` runs) with the real api handlers on a
// temporary home, driven over raw TCP sockets (bytes that are wrong on purpose) and by the `ws` client.
// An exception thrown anywhere in the host fails the test run (vitest reports uncaught errors).
const TOKEN = 'test-token-abcdefghijklmnopqrstuvwxyz';
let host: WebHost;
let port: number;
let handlers: Handlers;

beforeAll(async () => {
  process.env.FLIGHTDECK_HOME = mkdtempSync(path.join(os.tmpdir(), 'fd-home-'));
  const root = mkdtempSync(path.join(os.tmpdir(), 'fd-renderer-'));
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Flight Deck</title>');
  handlers = createHandlers(nativeApiDeps());
  host = await startWebHost({ handlers, rootDir: root, token: TOKEN });
  port = Number(new URL(host.origin).port);
});

afterAll(async () => {
  await host?.close();
});

const protocols = ['flightdeck.v1', `flightdeck.token.${TOKEN}`];

/** The host still serves: a page, and a call over a new WebSocket. */
async function stillServing(): Promise<void> {
  const page = await fetch(`${host.origin}/`);
  expect(page.status).toBe(200);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, protocols, { origin: host.origin });
  const reply = new Promise<{ id: number; envelope: { ok: boolean } }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d))));
    ws.once('error', reject);
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ t: 'call', id: 1, method: 'app.version', input: {} }));
  expect(await reply).toMatchObject({ id: 1, envelope: { ok: true } });
  ws.close();
}

const status = async (bytes: string | Buffer) => readAnswer(await exchange(port, bytes)).status;

describe('web host before authentication: nothing a client sends may throw', () => {
  it('answers (or drops) malformed upgrades and requests, and keeps serving after each', async () => {
    const req = (o: Partial<Parameters<typeof handshakeRequest>[0]>) => handshakeRequest({ port, token: TOKEN, ...o });
    const cases: Array<[string, string | Buffer, number[]]> = [
      // The crash of issue 15: `new URL('//[')` threw inside the upgrade listener.
      ['upgrade to //[ , foreign Origin, no token', req({ path: '//[', origin: 'http://evil.example', protocols: 'flightdeck.v1' }), [404]],
      ['upgrade to //[ with the token', req({ path: '//[' }), [404]],
      ['upgrade to an absolute-form target', req({ path: 'http://[::1' }), [404]],
      ['upgrade to *', req({ path: '*' }), [404]],
      ['plain GET //[', `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, [400]],
      ['plain GET http://[', `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, [400]],
      ['POST /api/ with a target of //[', `POST //[/api/app.version HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 0\r\n\r\n`, [400]],
      ['Host with a bracket', req({ host: '[' }), [421]],
      ['empty Host', req({ host: '' }), [421]],
      ['no Host at all', `GET /api/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, [421]],
      ['Origin "null"', req({ origin: 'null' }), [403]],
      ['Origin of another port on localhost', req({ origin: `http://localhost:${port + 1}` }), [403]],
      ['Origin https://localhost:PORT', req({ origin: `https://localhost:${port}` }), [403]],
      ['Origin that is not a URL', req({ origin: '://[%%' }), [403]],
      ['sub-protocols: only commas', req({ protocols: ',,,,' }), [401]],
      ['sub-protocols: the token twice', req({ protocols: `flightdeck.v1, flightdeck.token.${TOKEN}, flightdeck.token.${TOKEN}` }), [400]],
      ['sub-protocols: non-token characters', req({ protocols: `flightdeck.v1, flightdeck.token.${TOKEN}, a b"c` }), [400]],
      ['sub-protocols: 8 KiB of them', req({ protocols: `flightdeck.v1, flightdeck.token.${TOKEN}, ${'x,'.repeat(4000)}y` }), [400]],
      ['a key that is not 16 bytes of base64', req({ extra: '' }).replace(/Sec-WebSocket-Key: .*\r\n/, 'Sec-WebSocket-Key: not-a-key\r\n'), [400]],
      ['no key', req({}).replace(/Sec-WebSocket-Key: .*\r\n/, ''), [400]],
      ['version 12', req({}).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 12'), [400]],
      ['POST upgrade', req({ method: 'POST' }), [400, 405]],
      ['unknown method', req({ method: 'FLY' }), [0, 400]],
      ['headers over 16 KiB', req({ extra: `X-Big: ${'a'.repeat(64 * 1024)}\r\n` }), [0, 431]],
      ['a header line without a colon', req({ extra: 'garbage\r\n' }), [0, 400]],
      ['a NUL in the request line', `GET /api/ws\0 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, [0, 400]],
      ['binary noise', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) & 0xff)), [0, 400]],
    ];
    for (const [name, bytes, expected] of cases) {
      const got = await status(bytes);
      expect({ name, got, ok: expected.includes(got) }).toEqual({ name, got, ok: true });
    }
    await stillServing();
  });

  it('opening the UI as http://localhost:PORT works (Host and Origin localhost), foreign origins stay refused', async () => {
    const local = `http://localhost:${port}`;
    expect(await status(handshakeRequest({ port, token: TOKEN, host: `localhost:${port}`, origin: local }))).toBe(101);
    const post = (origin: string) =>
      fetch(`${host.origin}/api/app.version`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', 'x-flightdeck-token': TOKEN },
        body: '{}',
      });
    expect((await post(local)).status).toBe(200);
    expect((await post(host.origin)).status).toBe(200);
    for (const foreign of [
      'http://evil.example',
      `http://localhost.evil.example:${port}`,
      `http://localhost:${port + 1}`,
      `https://localhost:${port}`,
      'null',
    ]) {
      expect((await post(foreign)).status).toBe(403);
      expect(await status(handshakeRequest({ port, token: TOKEN, origin: foreign }))).toBe(403);
    }
    // The `ws` client with the browser's headers, as a page opened at localhost would send them.
    const ws = new WebSocket(`ws://localhost:${port}/api/ws`, protocols, { origin: local });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.close();
  });
});

describe('web host WebSocket protocol (ws)', () => {
  const handshake = () => handshakeRequest({ port, token: TOKEN, origin: host.origin });
  /** A valid handshake, then `frames`; the host's close code. */
  const closeCodeAfter = async (...frames: Buffer[]) => readAnswer(await exchange(port, Buffer.concat([Buffer.from(handshake()), ...frames]))).closeCode;
  const call = JSON.stringify({ t: 'call', id: 1, method: 'app.version', input: {} });

  it('closes bad sockets with the code RFC 6455 asks for', async () => {
    expect(await closeCodeAfter(clientFrame(0x1, call, { masked: false }))).toBe(1002);
    for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) expect(await closeCodeAfter(clientFrame(opcode, 'x'))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x1, call, { rsv: 4 }))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x9, 'x'.repeat(126)))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x9, 'x', { fin: false }))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x0, 'x'))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x1, 'a', { fin: false }), clientFrame(0x1, 'b'))).toBe(1002);
    // Close codes a client may not send are a protocol error, not echoed back.
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) expect(await closeCodeAfter(closeFrame(code))).toBe(1002);
    expect(await closeCodeAfter(clientFrame(0x8, Buffer.from([0x03])))).toBe(1002);
    expect(await closeCodeAfter(closeFrame(1000))).toBe(1000);
    expect(await closeCodeAfter(closeFrame(4000))).toBe(4000);
    // Text must be UTF-8, even where JSON.parse would have accepted the replacement characters.
    const badUtf8 = Buffer.concat([Buffer.from('{"t":"call","id":1,"method":"app.version","input":{},"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(await closeCodeAfter(clientFrame(0x1, badUtf8))).toBe(1007);
    expect(await closeCodeAfter(clientFrame(0x1, '{not json'))).toBe(1007);
    expect(await closeCodeAfter(clientFrame(0x2, Buffer.from([1, 2, 3])))).toBe(1003);
    expect(await closeCodeAfter(clientFrame(0x1, 'x'.repeat(4 * 1024 * 1024 + 1)))).toBe(1009);
    // A declared length over the cap is refused from the header, before any payload arrives.
    const huge = Buffer.from([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(await closeCodeAfter(huge)).toBe(1009);
    await stillServing();
  });

  it('a client that never reads is dropped once 16 MiB are queued for it; its calls stop; others are served', async () => {
    // 16 calls whose results are 3.5 MB each (56 MB): far over the cap plus what the kernel buffers.
    const big = 'v'.repeat(3.5 * 1024 * 1024);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const bigHandlers: Handlers = {
      ...handlers,
      'app.version': async () => {
        if (++started === 16) release();
        await gate;
        return { version: big, node: '', platform: '', arch: '', demoKit: '' };
      },
    };
    const root = mkdtempSync(path.join(os.tmpdir(), 'fd-renderer-'));
    const h = await startWebHost({ handlers: bigHandlers, rootDir: root, token: TOKEN });
    try {
      const p = Number(new URL(h.origin).port);
      const s = net.connect(p, '127.0.0.1');
      const frames = Array.from({ length: 16 }, (_, i) => clientFrame(0x1, JSON.stringify({ t: 'call', id: i, method: 'app.version', input: {} })));
      s.write(Buffer.concat([Buffer.from(handshakeRequest({ port: p, token: TOKEN })), ...frames]));
      s.pause();
      // Every handler has run; the results go out together once the gate opens. The socket is not read
      // until the host has handed all of them to the socket (setImmediate runs after those microtasks).
      await gate;
      await new Promise((r) => setImmediate(r));
      let received = 0;
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        received += d.length;
        // Every result arrived: the host queued all of them (what it must not do); stop reading.
        if (received >= 16 * big.length) s.destroy();
      });
      s.resume();
      await closed;
      const results = Math.floor(received / big.length);
      expect(results).toBeLessThan(16);
      expect(received).toBeLessThan(WS_MAX_BUFFERED + 4 * 1024 * 1024 + 16 * 1024 * 1024);
    } finally {
      await h.close();
    }
    await stillServing();
  });

  it('fuzz: 2,000 random and mutated handshakes and frames (seed 15): the host answers or closes with a valid code, and keeps serving', async () => {
    const keeper = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, protocols, { origin: host.origin });
    await new Promise((r) => keeper.once('open', r));
    const tally = await runWsFuzz({ port, token: TOKEN, seed: 15, n: 2000, parallel: 8 });
    expect(tally.bad).toEqual([]);
    expect(tally.cases).toBe(2000);
    // The cases reach past the handshake and hit the frame checks, not just the HTTP parser.
    expect(tally.statuses['101']).toBeGreaterThan(1200);
    expect(tally.closeCodes['1002']).toBeGreaterThan(100);
    expect(Object.keys(tally.closeCodes).length).toBeGreaterThan(3);
    // The client connected before the fuzz is still connected and answered.
    const reply = new Promise<{ envelope: { ok: boolean } }>((r) => keeper.once('message', (d) => r(JSON.parse(String(d)))));
    keeper.send(JSON.stringify({ t: 'call', id: 7, method: 'app.version', input: {} }));
    expect((await reply).envelope.ok).toBe(true);
    keeper.close();
    await stillServing();
  }, 60_000);
});
