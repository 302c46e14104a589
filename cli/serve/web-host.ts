import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { dispatch, type Handlers } from '../../core/api/dispatch.js';
import { FlightDeckError } from '../../core/errors.js';
import { CONTENT_SECURITY_POLICY } from '../../core/security.js';
import { createCallSession } from '../../core/api/session.js';
import { MAX_MESSAGE_BYTES, WS_PATH, WS_PROTOCOL, WS_TOKEN_PREFIX, type HostFrame } from '../../core/api/protocol.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const MAX_BODY = 1024 * 1024;
/**
 * Backpressure of a WebSocket whose client does not read: over EVENT_BUFFER bytes queued, progress events
 * are skipped (a progress bar loses nothing it needs); over MAX_BUFFERED the connection is dropped and its
 * calls are cancelled. Either way the host never queues more than MAX_BUFFERED + one message per client.
 */
export const WS_EVENT_BUFFER = 1024 * 1024;
export const WS_MAX_BUFFERED = 16 * 1024 * 1024;
/** How long a closing handshake may take when the host stops before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;

export interface WebHostOptions {
  handlers: Handlers;
  /** The built renderer (dist/renderer). */
  rootDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
}

export interface WebHost {
  /** Origin, e.g. http://127.0.0.1:5123 */
  origin: string;
  /** URL to open: carries the session token in the fragment, which never reaches a server log. */
  url: string;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `flightdeck serve`: the renderer over HTTP, the api as a WebSocket at /api/ws (calls with progress events
 * and cancel, core/api/protocol.ts) and as one-shot `POST /api/<method>`, both on the same contract and
 * dispatch as Electron IPC. Only loopback; every api call needs the session token; Host and Origin are
 * checked so another web page (or DNS rebinding) cannot drive the api.
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    throw new FlightDeckError('INVALID_INPUT', `Refusing to serve on ${host}: the web host binds to loopback only.`, {
      hint: 'Use --host 127.0.0.1 (default) or ::1; reach it remotely through an SSH tunnel.',
    });
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const root = path.resolve(opts.rootDir);
  let allowedHosts = new Set<string>();

  // `ws` does the RFC 6455 work (handshake, framing, UTF-8, close codes, size cap); it is loaded when a
  // web host starts, not when the CLI does (`flightdeck --version` does not pay for it).
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const sockets = new Set<WebSocket>();
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      try {
        if (!res.headersSent) send(res, 500, { ok: false, error: new FlightDeckError('INTERNAL', 'Web host failure.').toJSON() });
        else res.destroy();
      } catch {
        res.destroy();
      }
    });
  });

  const tokenOk = (given: string) => {
    const buf = Buffer.from(given);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  };
  /** Our own page, opened as http://127.0.0.1:PORT (or [::1]) or as http://localhost:PORT. */
  let allowedOrigins = new Set<string>();
  const originOk = (given: string | undefined) => given === undefined || allowedOrigins.has(given);

  /**
   * The WebSocket api: same guards as POST, checked before `ws` completes the handshake. Everything here
   * runs before authentication on bytes from anyone who can reach the port, so nothing may throw: a
   * failure answers 400 (or drops the socket), never the process.
   */
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch {
      socket.destroy();
    }
  });

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    if (!allowedHosts.has(req.headers.host ?? '')) return refuse(421, 'Misdirected Request');
    if (pathOf(req.url) !== WS_PATH) return refuse(404, 'Not Found');
    // Browsers always send Origin on a WebSocket; only our own page may connect.
    if (!originOk(req.headers.origin)) return refuse(403, 'Forbidden');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const given = offered.find((p) => p.startsWith(WS_TOKEN_PREFIX))?.slice(WS_TOKEN_PREFIX.length) ?? '';
    if (!offered.includes(WS_PROTOCOL) || !tokenOk(given)) return refuse(401, 'Unauthorized');
    // ws checks the rest (GET, Upgrade, Sec-WebSocket-Version/-Key, the sub-protocol list) and answers 400.
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws));
  }

  function connected(ws: WebSocket): void {
    sockets.add(ws);
    const session = createCallSession(opts.handlers, (frame) => sendFrame(ws, frame));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString('utf8'));
      } catch {
        return ws.close(1007, 'frames are JSON');
      }
      try {
        session.receive(frame);
      } catch {
        ws.close(1011, 'internal error');
      }
    });
    // A protocol error (bad opcode, unmasked frame, bad close code or UTF-8, oversized message): ws has
    // already closed the socket with the matching code; without a listener the error would be thrown.
    ws.on('error', () => {});
    ws.on('close', () => {
      sockets.delete(ws);
      session.close();
    });
  }

  function sendFrame(ws: WebSocket, frame: HostFrame): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > WS_MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    if (frame.t === 'event' && ws.bufferedAmount > WS_EVENT_BUFFER) return;
    ws.send(JSON.stringify(frame));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (!allowedHosts.has(req.headers.host ?? '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('Misdirected request');
      return;
    }
    const pathname = pathOf(req.url);
    if (pathname === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request');
      return;
    }
    if (pathname.startsWith('/api/')) return api(req, res, pathname.slice('/api/'.length));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    return staticFile(req, res, pathname);
  }

  async function api(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    if (!originOk(req.headers.origin)) {
      return send(res, 403, envelopeError('Cross-origin api calls are refused.'));
    }
    if (!tokenOk(String(req.headers['x-flightdeck-token'] ?? ''))) {
      return send(res, 401, envelopeError('Missing or wrong session token.', 'Open the URL printed by `flightdeck serve`.'));
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return send(res, 415, envelopeError('Api calls must send application/json.'));
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      return send(res, 400, envelopeError(err instanceof FlightDeckError ? err.message : 'The request body is not valid JSON.'));
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const envelope = await dispatch(opts.handlers, method, body, { signal: controller.signal });
    send(res, 200, envelope);
  }

  async function staticFile(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(root, '.' + path.posix.normalize(rel));
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    let info;
    try {
      info = await stat(file);
    } catch {
      info = undefined;
    }
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new FlightDeckError('PORT_IN_USE', `Port ${opts.port ?? 0} on ${host} is already in use.`, { cause: err, details: { host, port: opts.port ?? 0 } })
          : err,
      ),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const origin = `http://${hostPart}:${port}`;
  allowedHosts = new Set([`${hostPart}:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([origin, `http://localhost:${port}`]);
  return {
    origin,
    url: `${origin}/#token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) {
          ws.close(1001, 'web host stopping');
          setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
        }
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path of a request target (`/a/b?c` -> `/a/b`); undefined unless it is origin-form (starts with one `/`). */
export function pathOf(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

function envelopeError(message: string, hint?: string) {
  return { ok: false, error: new FlightDeckError('INVALID_INPUT', message, hint ? { hint } : {}).toJSON() };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new FlightDeckError('INVALID_INPUT', `Request body over ${MAX_BODY} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
