/**
 * A small HTTP/1.1 client for large GET bodies (blob downloads).
 *
 * node:http hands a body over in 64 KiB socket reads, each with its own allocation, parser call and
 * stream push; at local-registry speeds that costs more CPU than hashing the bytes (measured: receiving
 * 256 MiB took ~300 ms of CPU through node:http, ~60 ms with the reads below). This client reads the
 * socket with `onread` into 1 MiB buffers and hands large body slices out without copying, so a 256 MiB
 * blob arrives in a few hundred reads.
 *
 * Scope: GET without a request body; Content-Length, chunked and close-delimited bodies; 1xx responses
 * skipped (at most MAX_INTERIM of them); keep-alive per origin (a reused connection the server closed
 * meanwhile is retried once on a new one); http and https with the same trust settings as `Transport`; an
 * idle timeout; abort. Anything malformed fails as a `NetworkError` (retryable) naming the host.
 *
 * Deadlines against a server that trickles (each byte inside the idle timeout, forever): the response head
 * (1xx included) must be complete within `headDeadlineMs` of sending the request, and the body must keep
 * a minimum rate, `minBodyBytes` per `rateWindowMs` (windows in which the consumer held the body back do
 * not count). A rate rather than a body deadline: a 1 GiB blob on a slow link legitimately takes long.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import { FlightDeckError } from '../errors.js';
import { NetworkError, toNetworkError } from './http-error.js';
import type { HttpResponse } from './http.js';
import { HEADER_NAME_OK, HEADER_VALUE_OK, ResponseParser } from './http1-parser.js';
import { connectTunnel, proxyAuthorization, proxyAuthRequired, proxyError, proxyFor, type ProxySetting } from './proxy.js';

// The parser's names, for the existing importers of this module.
export { MAX_INTERIM, MAX_TRAILER_BYTES, MAX_TRAILER_LINES, ResponseParser, type ParserSink } from './http1-parser.js';

const READ_BYTES = 1024 * 1024;
/** Defaults of the deadlines (see BulkHttpOptions). */
export const HEAD_DEADLINE_MS = 60_000;
export const RATE_WINDOW_MS = 30_000;
export const MIN_BODY_BYTES = 32 * 1024;
/** Body bytes of one read at least this many are handed out in the read buffer itself (no copy). */
const HANDOFF_MIN = 128 * 1024;

export interface BulkHttpOptions {
  tls: tls.ConnectionOptions;
  /** Idle timeout: no byte for this long fails the request. */
  timeoutMs: number;
  /** The whole response head (status line, headers, any 1xx before it) within this long. Default 60 s. */
  headDeadlineMs?: number | undefined;
  /** Body rate check: at least `minBodyBytes` (default 32 KiB) per `rateWindowMs` (default 30 s). */
  rateWindowMs?: number | undefined;
  minBodyBytes?: number | undefined;
  /** The forward proxy (core/oci/proxy.ts): https through a CONNECT tunnel, http in absolute form. */
  proxy?: ProxySetting | undefined;
}

/** Where a connection goes: straight to the target, to an http proxy (absolute-form requests), or a tunnel. */
type Route = { kind: 'direct' } | { kind: 'proxy'; proxy: URL } | { kind: 'tunnel'; socket: net.Socket };

const MAX_FREE_BUFFERS = 8;

/**
 * Read buffers. A large read is lent to the body consumer as is (no copy); a consumer that is done with
 * the slices (the blob writer, once they are on disk) gives them back and the buffer is read into again,
 * so a long download reuses a handful of buffers instead of allocating one per read. Slices that are
 * never given back are simply garbage-collected with their buffer.
 */
class ReadBuffers {
  private readonly free: Buffer[] = [];
  private readonly lent = new WeakMap<ArrayBufferLike, number>();

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
  }

  /** One more slice of `slice.buffer` is out with a consumer. */
  lend(slice: Buffer): void {
    this.lent.set(slice.buffer, (this.lent.get(slice.buffer) ?? 0) + 1);
  }

  /** A read buffer came back from the socket with nothing lent: reuse it at once. */
  unused(buf: Buffer): void {
    if (!this.lent.has(buf.buffer) && this.free.length < MAX_FREE_BUFFERS) this.free.push(buf);
  }

  /** The consumer is done with these slices. */
  give(slices: readonly Buffer[]): void {
    for (const slice of slices) {
      const ab = slice.buffer;
      const n = this.lent.get(ab);
      if (n === undefined) continue;
      if (n > 1) {
        this.lent.set(ab, n - 1);
        continue;
      }
      this.lent.delete(ab);
      if (this.free.length < MAX_FREE_BUFFERS) this.free.push(Buffer.from(ab, 0, READ_BYTES));
    }
  }
}

/** The body of a bulk response: a Readable of Buffers with `complete` set once every byte arrived. */
class BodyStream extends Readable {
  complete = false;
  constructor(
    private readonly wake: () => void,
    private readonly abandoned: () => void,
    private readonly buffers: ReadBuffers,
  ) {
    // Object mode: read() hands out each slice as it came (byte mode would concatenate buffered slices).
    super({ objectMode: true, highWaterMark: 4 });
    // A failure may come before anyone reads: keep it on the stream (`errored`, thrown by the reader)
    // instead of crashing the process with an unhandled 'error' event.
    this.on('error', () => {});
  }
  override _read(): void {
    this.wake();
  }
  /** A reader that stops early (an error, a size check) destroys the body: close its connection now. */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.complete) this.abandoned();
    callback(err);
  }
  /** Give back slices this body handed out, once the consumer no longer needs their bytes. */
  recycle(slices: readonly Buffer[]): void {
    this.buffers.give(slices);
  }
}

type Exchange = {
  /** Bytes that arrived; returns false to pause the socket. */
  data(chunk: Buffer, owned: boolean): boolean;
  /** The socket ended or closed. */
  end(): void;
  fail(err: Error): void;
};

class Connection {
  readonly socket: net.Socket;
  private buf: Buffer;
  exchange: Exchange | undefined;
  /** Whether any response byte arrived on this connection (a reused one that dies before is retried). */
  used = false;
  /** Set for a connection to an http proxy: maps a failure to connect to the proxy's own error. */
  proxyError: ((err: Error) => Error) | undefined;
  /** Whether the socket connected (a failure before is the proxy's, when there is one). */
  connected = false;
  closed = false;

  constructor(
    readonly key: string,
    url: URL,
    opts: BulkHttpOptions,
    readonly buffers: ReadBuffers,
    private readonly onGone: (c: Connection) => void,
    route: Route = { kind: 'direct' },
  ) {
    this.buf = buffers.take();
    const targetHost = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const servername = net.isIP(targetHost) ? undefined : targetHost;
    const onread = { buffer: () => this.buf, callback: (n: number, b: Uint8Array) => this.onRead(n, b as Buffer) };
    if (route.kind === 'tunnel') {
      // TLS inside a proxy tunnel: `onread` applies only to sockets tls.connect opens itself, so read events.
      this.socket = tls.connect({ ...opts.tls, socket: route.socket, servername, ALPNProtocols: ['http/1.1'] } as tls.ConnectionOptions);
      this.socket.on('data', (chunk: Buffer) => {
        if (!this.onData(chunk)) this.socket.pause();
      });
    } else {
      const ep = route.kind === 'proxy' ? route.proxy : url;
      const host = ep.hostname.startsWith('[') ? ep.hostname.slice(1, -1) : ep.hostname;
      const https = ep.protocol === 'https:';
      const port = Number(ep.port || (https ? 443 : 80));
      // TLS to a proxy uses the system roots and this client's CAs, never the registry's client certificate.
      const trust = route.kind === 'proxy' ? { ca: opts.tls.ca, rejectUnauthorized: opts.tls.rejectUnauthorized } : opts.tls;
      this.socket = https
        ? tls.connect({ ...trust, host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], onread } as tls.ConnectionOptions)
        : net.connect({ host, port, onread });
    }
    this.socket.setNoDelay(true);
    this.socket.once('connect', () => (this.connected = true));
    const gone = (err?: Error) => {
      if (this.closed) return;
      this.closed = true;
      this.onGone(this);
      const ex = this.exchange;
      this.exchange = undefined;
      if (ex) {
        if (err) ex.fail(err);
        else ex.end();
      }
    };
    this.socket.on('error', (err) => gone(err));
    this.socket.on('end', () => gone());
    this.socket.on('close', () => gone());
  }

  private onRead(n: number, b: Buffer): boolean {
    const ex = this.exchange;
    if (!ex) {
      // Bytes while idle: the server is not speaking HTTP/1.1 to us; never reuse this socket.
      this.socket.destroy();
      return false;
    }
    this.used = true;
    const owned = n >= HANDOFF_MIN;
    // A large read is lent out as is; the next read goes into another buffer.
    if (!owned) return ex.data(b.subarray(0, n), false);
    this.buf = this.buffers.take();
    const more = ex.data(b.subarray(0, n), true);
    this.buffers.unused(b);
    return more;
  }

  /** Bytes from a read event (a tunnelled connection): never lent out, the parser copies what it keeps. */
  private onData(chunk: Buffer): boolean {
    const ex = this.exchange;
    if (!ex) {
      this.socket.destroy();
      return false;
    }
    this.used = true;
    return ex.data(chunk, false);
  }

  destroy(err?: Error): void {
    this.socket.destroy(err);
  }
}

/** Keep-alive connections per origin, and the request/response exchange on them. */
export class BulkHttp {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private readonly buffers = new ReadBuffers();

  constructor(private readonly opts: BulkHttpOptions) {}

  close(): void {
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.clear();
  }

  /** GET `url`; resolves once the status line and headers arrived, the body streams after. */
  async get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    const via = proxyFor(url, this.opts.proxy);
    const head = requestHead(url, headers, via && url.protocol === 'http:' ? via : undefined);
    for (let attempt = 0; ; attempt++) {
      const { conn, reused } = await this.connection(url, via, signal);
      try {
        const res = await this.exchange(conn, url, head, signal);
        if (via && url.protocol === 'http:' && res.status === 407) {
          res.body.destroy();
          throw proxyAuthRequired(via, url.host);
        }
        return res;
      } catch (err) {
        // A kept-alive connection the server closed while idle: try once more on a new one.
        if (reused && !conn.used && attempt === 0 && err instanceof NetworkError) continue;
        throw err;
      }
    }
  }

  private async connection(url: URL, via: URL | undefined, signal: AbortSignal | undefined): Promise<{ conn: Connection; reused: boolean }> {
    const key = `${via ? `${via.href} > ` : ''}${url.protocol}//${url.host}`;
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const conn = list.pop() as Connection;
      if (!conn.closed && !conn.socket.destroyed) {
        conn.socket.ref();
        conn.socket.resume();
        conn.used = false;
        return { conn, reused: true };
      }
    }
    let route: Route = { kind: 'direct' };
    if (via && url.protocol === 'https:') {
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      route = { kind: 'tunnel', socket: await connectTunnel(via, host, Number(url.port || 443), { timeoutMs: this.opts.timeoutMs, signal }) };
    } else if (via) {
      route = { kind: 'proxy', proxy: via };
    }
    const conn = new Connection(key, url, this.opts, this.buffers, (c) => this.forget(c), route);
    if (route.kind === 'proxy') {
      // An http proxy that cannot be reached at all fails as PROXY_UNREACHABLE (not a registry failure).
      conn.proxyError = (err) => proxyError(via as URL, url.host, err);
    }
    this.all.add(conn);
    return { conn, reused: false };
  }

  private forget(conn: Connection): void {
    this.all.delete(conn);
    const list = this.idle.get(conn.key);
    const i = list?.indexOf(conn) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  private release(conn: Connection): void {
    if (conn.closed) return;
    conn.socket.setTimeout(0);
    conn.socket.unref();
    const list = this.idle.get(conn.key) ?? [];
    list.push(conn);
    this.idle.set(conn.key, list);
  }

  private exchange(conn: Connection, url: URL, head: string, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const { timeoutMs } = this.opts;
    const headDeadlineMs = this.opts.headDeadlineMs ?? HEAD_DEADLINE_MS;
    const windowMs = this.opts.rateWindowMs ?? RATE_WINDOW_MS;
    const minBytes = this.opts.minBodyBytes ?? MIN_BODY_BYTES;
    return new Promise<HttpResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      let body: BodyStream | undefined;
      let finished = false;
      const parser = new ResponseParser(url.host);
      /** Body bytes in the current rate window, and whether the consumer held the body back in it. */
      let windowBytes = 0;
      let heldBack = false;
      let rateTimer: NodeJS.Timeout | undefined;
      const headTimer = setTimeout(
        () => fail(new NetworkError(`${url.host} sent no complete response head within ${headDeadlineMs} ms`, 'ETIMEDOUT')),
        headDeadlineMs,
      );
      const checkRate = () => {
        if (!heldBack && windowBytes < minBytes) {
          fail(new NetworkError(`${url.host} sent ${windowBytes} body bytes in ${windowMs} ms, below the minimum of ${minBytes}`, 'ETIMEDOUT'));
          return;
        }
        windowBytes = 0;
        heldBack = body !== undefined && (body.isPaused() || body.readableLength >= body.readableHighWaterMark);
        rateTimer = setTimeout(checkRate, windowMs);
      };
      const cleanup = () => {
        clearTimeout(headTimer);
        clearTimeout(rateTimer);
        signal?.removeEventListener('abort', onAbort);
        conn.socket.removeListener('timeout', onTimeout);
        conn.exchange = undefined;
      };
      const fail = (err: Error) => {
        if (finished) return;
        finished = true;
        cleanup();
        conn.destroy();
        if (body) body.destroy(err);
        else reject(err);
      };
      const onAbort = () => fail(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      const onTimeout = () =>
        fail(new NetworkError(body ? `${url.host} stopped sending for ${timeoutMs} ms` : `No answer from ${url.host} for ${timeoutMs} ms`, 'ETIMEDOUT'));
      const done = (reusable: boolean) => {
        finished = true;
        cleanup();
        if (body) {
          body.complete = true;
          body.push(null);
        }
        if (reusable) this.release(conn);
        else conn.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      conn.socket.setTimeout(timeoutMs);
      conn.socket.on('timeout', onTimeout);
      conn.exchange = {
        data: (chunk, owned) => {
          if (finished) return false;
          let more: boolean;
          try {
            more = parser.feed(chunk, owned, {
              head: (status, headers) => {
                clearTimeout(headTimer);
                rateTimer = setTimeout(checkRate, windowMs);
                body = new BodyStream(
                  () => {
                    if (!conn.closed) conn.socket.resume();
                  },
                  () => {
                    if (finished) return;
                    finished = true;
                    cleanup();
                    conn.destroy();
                  },
                  conn.buffers,
                );
                resolve({ status, headers, body, url });
              },
              body: (slice, noCopy) => {
                if (noCopy) conn.buffers.lend(slice);
                windowBytes += slice.length;
                const more = (body as BodyStream).push(noCopy ? slice : Buffer.from(slice));
                // The consumer holds the body back: this window says nothing about the server's rate.
                if (!more) heldBack = true;
                return more;
              },
              done: (reusable) => done(reusable),
            });
          } catch (err) {
            fail(err as Error);
            return false;
          }
          // Once the response is complete keep reading, so an idle close or stray bytes are noticed.
          return finished || more;
        },
        end: () => {
          if (finished) return;
          if (parser.closeDelimited()) done(false);
          else fail(new NetworkError(`${url.host} closed the connection ${parser.describe()}`, 'ECONNRESET'));
        },
        fail: (err) => fail(conn.proxyError && !conn.connected ? conn.proxyError(err) : toNetworkError(err, url)),
      };
      conn.socket.write(head, 'latin1');
    });
  }
}

function requestHead(url: URL, headers: Record<string, string>, proxy?: URL): string {
  // To an http proxy: the absolute form, and the proxy's own credentials (the registry's go in `headers`).
  let head = `GET ${proxy ? `${url.protocol}//${url.host}` : ''}${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  const auth = proxy ? proxyAuthorization(proxy) : undefined;
  if (auth) head += `proxy-authorization: ${auth}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'host') continue;
    if (!HEADER_NAME_OK.test(name) || !HEADER_VALUE_OK.test(value)) {
      throw new FlightDeckError('REGISTRY_ERROR', `Refusing to send header ${JSON.stringify(name)}: it holds characters HTTP does not allow.`);
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
