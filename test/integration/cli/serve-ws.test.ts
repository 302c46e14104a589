import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, wsTransport, type ApiEvent, type WebSocketLike } from '../../../core/api/client.js';
import { ROOT, tempHome } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { startServe, type ServeProcess } from '../../support/serve.js';
import { clientFrame, exchange, handshakeRequest, readAnswer } from '../../support/ws-raw.js';

// The web host's WebSocket api, driven by an independent client (the `ws` package) and by our own
// transport: real `flightdeck serve`, real docker-registry fed by skopeo, a real socket that never answers.
let serve: ServeProcess;
let registry: TestRegistry;
let blackhole: net.Server;
const held: net.Socket[] = [];
const KIT = path.join(ROOT, 'assets', 'demo-kit');

beforeAll(async () => {
  registry = await startRegistry();
  execFileSync('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${KIT}:flight/shared-types/bundles/vita:latest`,
    `docker://${registry.host}/flight/shared-types/bundles/vita:2026.11.01`,
  ]);
  blackhole = net.createServer((s) => held.push(s));
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  serve = await startServe({ FLIGHTDECK_HOME: tempHome() });
});

afterAll(async () => {
  await serve?.stop();
  await registry?.stop();
  for (const s of held) s.destroy();
  blackhole?.close();
});

const wsUrl = () => serve.origin.replace('http', 'ws') + '/api/ws';
const protocols = (token = serve.token) => ['flightdeck.v1', `flightdeck.token.${token}`];

/** Open a socket; resolve with the HTTP status of a refused handshake, or 101. */
function handshake(opts: { token?: string; origin?: string; host?: string; path?: string; protocols?: string[] } = {}) {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(serve.origin.replace('http', 'ws') + (opts.path ?? '/api/ws'), opts.protocols ?? protocols(opts.token), {
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(opts.host ? { headers: { host: opts.host } } : {}),
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => resolve(-1));
  });
}

const client = () => {
  const transport = wsTransport(wsUrl(), serve.token, (url, p) => new WebSocket(url, p, { origin: serve.origin }) as unknown as WebSocketLike);
  return { api: createClient(transport), transport };
};

describe('flightdeck serve: WebSocket api', () => {
  it('accepts our own page (right token and Origin) and refuses everyone else before the handshake', async () => {
    expect(await handshake({ origin: serve.origin })).toBe(101);
    expect(await handshake({ token: 'wrong-token-wrong-token-wrong-token' })).toBe(401);
    expect(await handshake({ protocols: [`flightdeck.token.${serve.token}`] })).toBe(401);
    expect(await handshake({ origin: 'http://evil.example' })).toBe(403);
    expect(await handshake({ host: 'evil.example:80' })).toBe(421);
    expect(await handshake({ path: '/api/other' })).toBe(404);
  });

  it('answers calls with the contract envelope, in any order, by call id', async () => {
    const ws = new WebSocket(wsUrl(), protocols(), { origin: serve.origin });
    await new Promise((r) => ws.once('open', r));
    const got: Array<{ t: string; id: number; envelope: { ok: boolean; error?: { code: string } } }> = [];
    const three = new Promise<void>((r) =>
      ws.on('message', (d) => {
        got.push(JSON.parse(String(d)));
        if (got.length === 3) r();
      }),
    );
    ws.send(JSON.stringify({ t: 'call', id: 1, method: 'app.version', input: {} }));
    ws.send(JSON.stringify({ t: 'call', id: 2, method: 'doctor.run', input: { registries: 7 } }));
    ws.send(JSON.stringify({ t: 'call', id: 3, method: 'no.such', input: {} }));
    await three;
    const byId = new Map(got.map((f) => [f.id, f]));
    expect(byId.get(1)).toMatchObject({ t: 'result', envelope: { ok: true, value: { version: expect.any(String) } } });
    expect(byId.get(2)?.envelope.error?.code).toBe('INVALID_INPUT');
    expect(byId.get(3)?.envelope.error?.code).toBe('INVALID_INPUT');
    // A frame that is not JSON closes the socket with 1007.
    const code = await new Promise<number>((r) => {
      ws.once('close', (c) => r(c));
      ws.send('{not json');
    });
    expect(code).toBe(1007);
  });

  it('speaks the protocol edges: fragmented messages, ping/pong, binary and oversized frames, unmasked frames', async () => {
    const connect = async () => {
      const ws = new WebSocket(wsUrl(), protocols(), { origin: serve.origin });
      await new Promise((r) => ws.once('open', r));
      return ws;
    };
    const closeCode = (ws: WebSocket) => new Promise<number>((r) => ws.once('close', (c) => r(c)));

    // A call split over three frames is reassembled; a ping gets its pong.
    const ws = await connect();
    const answer = new Promise<{ id: number; envelope: { ok: boolean } }>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    const text = JSON.stringify({ t: 'call', id: 5, method: 'app.version', input: {} });
    ws.send(text.slice(0, 10), { fin: false });
    ws.send(text.slice(10, 20), { fin: false });
    ws.send(text.slice(20), { fin: true });
    expect(await answer).toMatchObject({ id: 5, envelope: { ok: true } });
    const pong = new Promise<string>((r) => ws.once('pong', (d) => r(d.toString())));
    ws.ping('are-you-there');
    expect(await pong).toBe('are-you-there');

    // Binary frames: 1003. Messages over the cap: 1009.
    const closedBinary = closeCode(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await closedBinary).toBe(1003);
    const big = await connect();
    const closedBig = closeCode(big);
    big.send('x'.repeat(4 * 1024 * 1024 + 1));
    expect(await closedBig).toBe(1009);

    // A client frame without a mask is a protocol error (raw socket after a real handshake): the host
    // answers 101 with the RFC's accept value, then a close frame with 1002, and closes.
    const { port } = new URL(serve.origin);
    const unmasked = readAnswer(
      await exchange(
        Number(port),
        Buffer.concat([Buffer.from(handshakeRequest({ port: Number(port), token: serve.token })), clientFrame(0x1, '{}', { masked: false })]),
      ),
    );
    expect(unmasked.status).toBe(101);
    expect(unmasked.closeCode).toBe(1002);
  });

  it('the handshake carries the RFC 6455 accept value and only our sub-protocol (never the token)', async () => {
    const { port } = new URL(serve.origin);
    const raw = await exchange(Number(port), handshakeRequest({ port: Number(port), token: serve.token }), { end: false, until: '\r\n\r\n' });
    const head = raw.toString('latin1');
    expect(head).toContain('HTTP/1.1 101');
    expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(head).toMatch(/Sec-WebSocket-Protocol: flightdeck\.v1\r\n/);
    expect(head).not.toContain(serve.token);
  });

  it('survives an upgrade to //[ with a foreign Origin and no token (it used to kill the process), and keeps serving', async () => {
    const port = Number(new URL(serve.origin).port);
    const bad = handshakeRequest({ port, token: '', path: '//[', origin: 'http://evil.example', protocols: 'flightdeck.v1' });
    expect(readAnswer(await exchange(port, bad)).status).toBe(404);
    expect(readAnswer(await exchange(port, `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).status).toBe(400);
    expect(serve.exited()).toBe(false);
    expect(await handshake({ origin: serve.origin })).toBe(101);
    const page = await fetch(`${serve.origin}/`);
    expect(page.status).toBe(200);
  });

  it('streams progress events of a pull from a real registry before the result', async () => {
    const { api, transport } = client();
    const events: ApiEvent[] = [];
    const pulled = await api.call(
      'registry.pull',
      { reference: `${registry.host}/flight/shared-types/bundles/vita:2026.11.01` },
      { onEvent: (e) => events.push(e) },
    );
    transport.close();
    expect(pulled.blobsDownloaded).toBeGreaterThan(0);
    const blobEvents = events.filter((e) => e.type === 'progress' && e.task === 'blob');
    expect(blobEvents.length).toBeGreaterThan(0);
    const done = blobEvents.filter((e) => e.phase === 'done');
    expect(done.length).toBe(pulled.blobsDownloaded);
    for (const e of done) expect(e.done).toBe(e.total);
  });

  it('cancel stops a call that would otherwise hang, and the host keeps serving', async () => {
    const { api, transport } = client();
    const port = (blackhole.address() as net.AddressInfo).port;
    const controller = new AbortController();
    // The call is running once the host has connected to the socket that never answers.
    const running = new Promise((r) => blackhole.once('connection', r));
    const pending = api.call('registry.list', { target: `127.0.0.1:${port}/some/repo` }, { signal: controller.signal });
    await running;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await api.call('app.version', {})).version).toMatch(/^\d+\.\d+\.\d+/);
    transport.close();
  });

  it('the host itself answers a cancelled call with ABORTED (the handler saw the abort)', async () => {
    const port = (blackhole.address() as net.AddressInfo).port;
    const ws = new WebSocket(wsUrl(), protocols(), { origin: serve.origin });
    await new Promise((r) => ws.once('open', r));
    const result = new Promise<{ t: string; id: number; envelope: { ok: boolean; error?: { code: string } } }>((r) =>
      ws.on('message', (d) => r(JSON.parse(String(d)))),
    );
    // The handler is running (it connected to the socket that never answers) when the cancel arrives;
    // without the cancel it would end with the transport's 30 s timeout error, not ABORTED.
    const running = new Promise((r) => blackhole.once('connection', r));
    ws.send(JSON.stringify({ t: 'call', id: 9, method: 'registry.list', input: { target: `127.0.0.1:${port}/some/repo` } }));
    await running;
    ws.send(JSON.stringify({ t: 'cancel', id: 9 }));
    expect(await result).toMatchObject({ t: 'result', id: 9, envelope: { ok: false, error: { code: 'ABORTED' } } });
    ws.close();
  });
});
