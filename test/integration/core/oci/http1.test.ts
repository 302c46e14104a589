// The large-read HTTP/1.1 client used for blob downloads (core/oci/http1.ts), against real sockets: raw
// TCP servers that write exact bytes (framing, 1xx, keep-alive, faults) and a real TLS server.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkHttp, MAX_INTERIM, MAX_TRAILER_LINES, type BulkHttpOptions } from '../../../../core/oci/http1.js';
import { NetworkError, Transport } from '../../../../core/oci/http.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { makeCert } from '../../../support/tls.js';
import { tempDir } from '../../../support/oci.js';

type Handler = (socket: net.Socket, request: string, index: number) => void;

interface RawServer {
  url: URL;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

const servers: Array<{ close(): Promise<void> }> = [];
const clients: BulkHttp[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

/** A TCP server that answers each request head (up to the blank line) with `handler`. */
async function rawServer(handler: Handler): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state: RawServer = {
    url: new URL('http://127.0.0.1'),
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        state.requests.push(request);
        handler(socket, request, state.requests.length - 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  servers.push(state);
  return state;
}

function client(timeoutMs = 5000, tls = {}): BulkHttp {
  const c = new BulkHttp({ tls, timeoutMs });
  clients.push(c);
  return c;
}

async function readAll(body: AsyncIterable<Buffer> & { recycle?: (b: Buffer[]) => void }, recycle = false): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) {
    parts.push(Buffer.from(chunk));
    if (recycle) body.recycle?.([chunk]);
  }
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const head = (status: string, headers: Record<string, string | number>) =>
  `HTTP/1.1 ${status}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe('BulkHttp', () => {
  it('streams a Content-Length body intact and reuses the connection for the next request', async () => {
    const payload = randomBytes(5 * 1024 * 1024 + 17);
    const srv = await rawServer((s) => {
      s.write(head('200 OK', { 'content-length': payload.length, 'docker-content-digest': 'sha256:x' }));
      s.write(payload);
    });
    const c = client();
    const url = new URL('/v2/r/blobs/sha256:abc?x=1', srv.url);
    for (let i = 0; i < 2; i++) {
      const res = await c.get(url, { accept: '*/*' });
      expect(res.status).toBe(200);
      expect(res.headers['docker-content-digest']).toBe('sha256:x');
      expect(sha(await readAll(res.body, true))).toBe(sha(payload));
      expect(res.body.complete).toBe(true);
    }
    expect(srv.connections).toBe(1);
    expect(srv.requests[0]).toMatch(/^GET \/v2\/r\/blobs\/sha256:abc\?x=1 HTTP\/1\.1\r\n/);
    expect(srv.requests[0]).toContain(`host: ${srv.url.host}`);
    expect(srv.requests[0]).toContain('accept: */*');
  });

  it('a slow consumer that holds every slice still gets every byte (backpressure, no buffer reused early)', async () => {
    const payload = randomBytes(24 * 1024 * 1024);
    const srv = await rawServer((s) => s.end(Buffer.concat([Buffer.from(head('200 OK', { 'content-length': payload.length })), payload])));
    const res = await client().get(srv.url, {});
    const held: Buffer[] = [];
    let n = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      held.push(chunk);
      if (++n % 8 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(sha(Buffer.concat(held))).toBe(sha(payload));
  });

  it('decodes a chunked body with extensions and trailers, and keeps the connection', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 5);
    const srv = await rawServer((s) => {
      s.write(head('200 OK', { 'transfer-encoding': 'chunked' }));
      const sizes = [1, 0x10, 70_000, 1024 * 1024, payload.length];
      let off = 0;
      for (const size of sizes) {
        const part = payload.subarray(off, Math.min(payload.length, off + size));
        if (part.length === 0) break;
        off += part.length;
        // Split the frame bytes over several writes so the parser sees lines cut anywhere.
        const frame = Buffer.concat([Buffer.from(`${part.length.toString(16)};ext=1\r\n`), part, Buffer.from('\r\n')]);
        s.write(frame.subarray(0, 3));
        s.write(frame.subarray(3));
      }
      s.write('0\r\nx-trailer: yes\r\n\r\n');
    });
    const c = client();
    for (let i = 0; i < 2; i++) {
      const res = await c.get(srv.url, {});
      expect(sha(await readAll(res.body))).toBe(sha(payload));
    }
    expect(srv.connections).toBe(1);
  });

  it('skips 100 and 103 informational responses', async () => {
    const srv = await rawServer((s) =>
      s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n${head('200 OK', { 'content-length': 5 })}hello`),
    );
    const res = await client().get(srv.url, {});
    expect(res.status).toBe(200);
    expect(res.headers.link).toBeUndefined();
    expect((await readAll(res.body)).toString()).toBe('hello');
  });

  it('reads a close-delimited body to the end and does not reuse that connection', async () => {
    const srv = await rawServer((s) => s.end(`${head('200 OK', { connection: 'close' })}all of it`));
    const c = client();
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('all of it');
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('all of it');
    expect(srv.connections).toBe(2);
  });

  it('a connection closed mid-body fails the body with a retryable NetworkError naming the byte count', async () => {
    const srv = await rawServer((s) => {
      s.write(head('200 OK', { 'content-length': 1000 }));
      s.end(Buffer.alloc(400));
    });
    const res = await client().get(srv.url, {});
    const err = await readAll(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ECONNRESET');
    expect((err as Error).message).toContain('after 400 of 1000 body bytes');
    expect(res.body.complete).toBe(false);
  });

  it('bytes beyond Content-Length are not delivered and the connection is not reused', async () => {
    const srv = await rawServer((s) => s.write(`${head('200 OK', { 'content-length': 3 })}abcGARBAGE`));
    const c = client();
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('abc');
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('abc');
    expect(srv.connections).toBe(2);
  });

  it.each([
    ['a malformed status line', 'HTTP/2 200\r\n\r\n', /status line/],
    ['conflicting Content-Length headers', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd', /conflicting Content-Length/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /Content-Length/],
    ['headers over 64 KiB', `HTTP/1.1 200 OK\r\nx: ${'a'.repeat(70_000)}\r\n\r\n`, /over 64 KiB/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
    ['an unsupported transfer coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n', /Transfer-Encoding/],
  ])('%s → NetworkError EPROTO', async (_name, response, message) => {
    const srv = await rawServer((s) => s.write(response));
    const err = await client()
      .get(srv.url, {})
      .then((res) => readAll(res.body))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('EPROTO');
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a header value with CR/LF before sending anything', async () => {
    const srv = await rawServer((s) => s.end(head('200 OK', { 'content-length': 0 })));
    const err = await client()
      .get(srv.url, { authorization: 'Bearer x\r\nx-injected: 1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlightDeckError);
    expect((err as FlightDeckError).code).toBe('REGISTRY_ERROR');
    expect(srv.requests).toHaveLength(0);
  });

  it('a kept-alive connection the server closed while idle is replaced transparently', async () => {
    let first: net.Socket | undefined;
    const srv = await rawServer((s) => {
      first ??= s;
      s.write(`${head('200 OK', { 'content-length': 2 })}ok`);
    });
    const c = client();
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('ok');
    // The answer was read whole, so the connection is idle in the pool: the server closes it now. Its
    // socket closes only when the client answered the FIN (it saw the close), so the next request
    // surely finds that connection closed.
    const closed = new Promise((r) => first!.once('close', r));
    first!.end();
    await closed;
    expect((await readAll((await c.get(srv.url, {})).body)).toString()).toBe('ok');
    expect(srv.connections).toBe(2);
  });

  it('a server that stops sending mid-body fails after the idle timeout', async () => {
    const srv = await rawServer((s) => s.write(`${head('200 OK', { 'content-length': 100 })}partial`));
    const res = await client(300).get(srv.url, {});
    const started = Date.now();
    const err = await readAll(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toContain('stopped sending for 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('no answer at all fails after the idle timeout', async () => {
    const srv = await rawServer(() => {});
    const err = await client(300)
      .get(srv.url, {})
      .catch((e: unknown) => e);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toContain('No answer from');
  });

  it('abort mid-body fails the body with ABORTED and closes the socket', async () => {
    let serverSocket: net.Socket | undefined;
    const srv = await rawServer((s) => {
      serverSocket = s;
      s.write(`${head('200 OK', { 'content-length': 1_000_000 })}first`);
    });
    const ac = new AbortController();
    const res = await client().get(srv.url, {}, ac.signal);
    const reading = readAll(res.body).catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 50);
    const err = await reading;
    expect(err).toBeInstanceOf(FlightDeckError);
    expect((err as FlightDeckError).code).toBe('ABORTED');
    await new Promise<void>((r) => (serverSocket?.closed ? r() : serverSocket?.once('close', () => r())));
    expect(serverSocket?.closed).toBe(true);
  });

  it('a reader that stops early closes the connection at once (no socket left waiting for the timeout)', async () => {
    let serverSocket: net.Socket | undefined;
    const srv = await rawServer((s) => {
      serverSocket = s;
      s.write(`${head('200 OK', { 'content-length': 10_000_000 })}${'x'.repeat(300_000)}`);
    });
    const c = client(60_000);
    const res = await c.get(srv.url, {});
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      expect(chunk.length).toBeGreaterThan(0);
      break; // destroys the body
    }
    await new Promise<void>((r) => (serverSocket?.closed ? r() : serverSocket?.once('close', () => r())));
    expect(serverSocket?.closed).toBe(true);
    // The next request opens a fresh connection and works.
    expect((await c.get(srv.url, {})).status).toBe(200);
    expect(srv.connections).toBe(2);
  });

  it('connection refused → NetworkError ECONNREFUSED', async () => {
    const srv = await rawServer(() => {});
    const url = srv.url;
    await srv.close();
    servers.length = 0;
    const err = await client()
      .get(url, {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ECONNREFUSED');
  });

  it('an IPv6 literal host: connects to the address and sends the bracketed Host header', async () => {
    const server = net.createServer((s) =>
      s.on('data', (d) => {
        if (d.includes('\r\n\r\n')) s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${d.length}\r\n\r\n${d.toString('latin1')}`);
      }),
    );
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    if (!listening) return; // no IPv6 loopback on this machine
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const port = (server.address() as AddressInfo).port;
    const res = await client().get(new URL(`http://[::1]:${port}/v2/`), {});
    const echoed = (await readAll(res.body)).toString('latin1');
    expect(echoed).toContain(`host: [::1]:${port}\r\n`);
  });

  it('TLS: a trusted self-signed server streams the body; an untrusted one fails with the certificate error', async () => {
    const pair = makeCert(tempDir(), 'bulk');
    const { readFileSync } = await import('node:fs');
    const payload = randomBytes(2 * 1024 * 1024);
    const server = https.createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    server.on('connection', (s: net.Socket) => servers.push({ close: async () => void s.destroy() }));
    const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/blob`);
    const res = await client(5000, { ca: [pair.certPem] }).get(url, {});
    expect(sha(await readAll(res.body, true))).toBe(sha(payload));
    const err = await client()
      .get(url, {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });
});

/** Write `bytes` one byte per `everyMs` until the socket closes: each byte well inside the idle timeout, forever. */
function trickle(s: net.Socket, everyMs: number, byte = 'a'): void {
  const t = setInterval(() => {
    if (!s.destroyed) s.write(byte);
  }, everyMs);
  s.on('close', () => clearInterval(t));
}

function limited(opts: Partial<BulkHttpOptions>): BulkHttp {
  // The idle timeout is far away: only the deadline under test can end these requests.
  const c = new BulkHttp({ tls: {}, timeoutMs: 60_000, ...opts });
  clients.push(c);
  return c;
}

describe('BulkHttp deadlines and caps (a server that trickles, floods 1xx or trailers)', () => {
  it('a response head trickled one byte at a time fails at the head deadline, not never', async () => {
    const srv = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nx-slow: ');
      trickle(s, 5);
    });
    const err = await limited({ headDeadlineMs: 300 })
      .get(srv.url, {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toContain('no complete response head within 300 ms');
  });

  it('the head deadline also bounds a stream of informational responses', async () => {
    const srv = await rawServer((s) => {
      const t = setInterval(() => s.destroyed || s.write('HTTP/1.1 100 Continue\r\n\r\n'), 20);
      s.on('close', () => clearInterval(t));
    });
    const err = await limited({ headDeadlineMs: 200 })
      .get(srv.url, {})
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no complete response head within 200 ms|more than \d+ informational/);
  });

  it('a body trickled below the minimum rate fails with ETIMEDOUT naming the rate', async () => {
    const srv = await rawServer((s) => {
      s.write(`${head('200 OK', { 'content-length': 1_000_000 })}start`);
      trickle(s, 5);
    });
    const res = await limited({ rateWindowMs: 200, minBodyBytes: 64 * 1024 }).get(srv.url, {});
    const err = await readAll(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toMatch(/sent \d+ body bytes in 200 ms, below the minimum of 65536/);
  });

  it('a consumer that holds the body back for many windows does not trip the rate check', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const srv = await rawServer((s) => s.write(Buffer.concat([Buffer.from(head('200 OK', { 'content-length': payload.length })), payload])));
    // A minimum of one byte per window: any delivery at all satisfies it, so only a window the consumer
    // held back (nothing can arrive then) could trip it — whatever the machine's speed.
    const res = await limited({ rateWindowMs: 100, minBodyBytes: 1 }).get(srv.url, {});
    const parts: Buffer[] = [];
    let first = true;
    for await (const chunk of res.body) {
      parts.push(Buffer.from(chunk as Buffer));
      if (first) {
        first = false;
        // Slow by construction: the reader stalls for ten windows with the socket paused by backpressure.
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    expect(sha(Buffer.concat(parts))).toBe(sha(payload));
  });

  it(`more than ${MAX_INTERIM} informational responses are refused; ${MAX_INTERIM} are skipped`, async () => {
    const interim = (n: number) => 'HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n'.repeat(n);
    const ok = await rawServer((s) => s.write(`${interim(MAX_INTERIM)}${head('200 OK', { 'content-length': 2 })}ok`));
    expect((await readAll((await client().get(ok.url, {})).body)).toString()).toBe('ok');
    const flood = await rawServer((s) => s.write(`${interim(MAX_INTERIM + 1)}${head('200 OK', { 'content-length': 2 })}ok`));
    const err = await client()
      .get(flood.url, {})
      .catch((e: unknown) => e);
    expect((err as NetworkError).code).toBe('EPROTO');
    expect((err as Error).message).toContain('informational');
  });

  it(`a trailer section over ${MAX_TRAILER_LINES} lines is refused`, async () => {
    const trailers = (n: number) => Array.from({ length: n }, (_, i) => `x-t${i}: v\r\n`).join('');
    const ok = await rawServer((s) => s.write(`${head('200 OK', { 'transfer-encoding': 'chunked' })}2\r\nok\r\n0\r\n${trailers(MAX_TRAILER_LINES)}\r\n`));
    expect((await readAll((await client().get(ok.url, {})).body)).toString()).toBe('ok');
    const flood = await rawServer((s) =>
      s.write(`${head('200 OK', { 'transfer-encoding': 'chunked' })}2\r\nok\r\n0\r\n${trailers(MAX_TRAILER_LINES + 1)}\r\n`),
    );
    const err = await readAll((await client().get(flood.url, {})).body).catch((e: unknown) => e);
    expect((err as NetworkError).code).toBe('EPROTO');
    expect((err as Error).message).toContain('trailer section');
  });

  it('on the node:http path the head deadline runs from the end of the upload: a slow PUT body is not cut off', async () => {
    const server = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain' }).end(String(n)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    // Six chunks 500 ms apart: the upload takes at least 2.5 s by construction (a timer never fires early),
    // longer than the 2 s head deadline, which leaves a loaded machine 2 s to answer once the upload ends.
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent === 6) return void this.push(null);
        setTimeout(() => this.push(Buffer.alloc(1000, sent++)), 500);
      },
    });
    const t = new Transport({ timeoutMs: 60_000, deadlines: { headMs: 2000 } });
    try {
      const res = await t.request({ method: 'PUT', url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`), body });
      expect(res.status).toBe(201);
      expect((await readAll(res.body)).toString()).toBe('6000');
    } finally {
      t.close();
    }
  });

  it('the node:http path has the same head deadline (Transport, a non-blob request)', async () => {
    const srv = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nx-slow: ');
      trickle(s, 5);
    });
    const t = new Transport({ timeoutMs: 60_000, deadlines: { headMs: 300 } });
    try {
      const err = await t.request({ method: 'GET', url: srv.url }).catch((e: unknown) => e);
      expect((err as NetworkError).code).toBe('ETIMEDOUT');
      expect((err as Error).message).toContain('no complete response head within 300 ms');
    } finally {
      t.close();
    }
  });
});
