/**
 * A thin HTTP layer on node:http/https: keep-alive agents per client (with an optional extra CA or TLS
 * verification off for `--insecure`), streaming response bodies, an idle timeout, abort, and no
 * automatic redirects (the registry client follows them itself so Authorization never leaves its host).
 * Requests marked `bulk` (blob downloads) go through the large-read HTTP/1.1 client in http1.ts, with the
 * same trust settings and timeout.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import tls, { rootCertificates, type ConnectionOptions } from 'node:tls';
import type { Duplex, Readable } from 'node:stream';
import { FlightDeckError } from '../errors.js';
import { NetworkError, toNetworkError } from './http-error.js';
import { BulkHttp, HEAD_DEADLINE_MS } from './http1.js';
import { connectTunnel, proxyAuthorization, proxyAuthRequired, proxyError, proxyFor, type ProxySetting } from './proxy.js';

export { NetworkError, toNetworkError } from './http-error.js';

export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted for this client, besides the system store. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
  /** Client certificate and key (PEM) for registries that require one (mTLS). */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  /** The forward proxy: from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (default), one URL, or none (core/oci/proxy.ts). */
  proxy?: ProxySetting | undefined;
  /** Skip TLS certificate verification (`--insecure`). */
  insecure?: boolean | undefined;
  /** Idle socket timeout: no byte for this long fails the request. Default 30 s. */
  timeoutMs?: number | undefined;
  /** Parallel connections per host. */
  maxSockets?: number | undefined;
  /**
   * Against a server that trickles bytes just inside the idle timeout: the whole response head within
   * `headMs` (default 60 s), and for blob bodies at least `minBodyBytes` per `rateWindowMs` (default
   * 32 KiB per 30 s). See core/oci/http1.ts.
   */
  deadlines?: { headMs?: number; rateWindowMs?: number; minBodyBytes?: number } | undefined;
}

/** A response body: a Readable of Buffers; `complete` once every declared byte arrived. */
export type HttpBody = Readable & { readonly complete: boolean };

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: HttpBody;
  url: URL;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable | undefined;
  signal?: AbortSignal | undefined;
  /** A large body is expected (a blob): a GET without a body then uses the large-read client. */
  bulk?: boolean | undefined;
}

export class Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly headDeadlineMs: number;
  private readonly deadlines: TransportOptions['deadlines'];
  private readonly trust: ConnectionOptions = {};
  private bulkHttp: BulkHttp | undefined;
  private readonly proxy: ProxySetting;

  constructor(opts: TransportOptions = {}) {
    const maxSockets = opts.maxSockets ?? 16;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    if (opts.insecure) this.trust.rejectUnauthorized = false;
    const extra = opts.ca === undefined ? [] : (Array.isArray(opts.ca) ? opts.ca : [opts.ca]).map(String);
    if (extra.length > 0) {
      // Adding `ca` replaces the default roots, so keep them.
      this.trust.ca = [...rootCertificates, ...extra];
    }
    if (opts.cert !== undefined && opts.key !== undefined) {
      this.trust.cert = opts.cert;
      this.trust.key = opts.key;
    }
    this.proxy = opts.proxy ?? { kind: 'env' };
    this.httpsAgent = new TunnellingAgent({ keepAlive: true, maxSockets, ...this.trust }, this.proxy, opts.timeoutMs ?? 30_000);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.deadlines = opts.deadlines;
    this.headDeadlineMs = opts.deadlines?.headMs ?? HEAD_DEADLINE_MS;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const { url } = req;
    const headers: Record<string, string> = { 'user-agent': 'flightdeck', ...req.headers };
    if (req.bulk && req.method === 'GET' && req.body === undefined) {
      this.bulkHttp ??= new BulkHttp({
        tls: this.trust,
        timeoutMs: this.timeoutMs,
        headDeadlineMs: this.headDeadlineMs,
        rateWindowMs: this.deadlines?.rateWindowMs,
        minBodyBytes: this.deadlines?.minBodyBytes,
        proxy: this.proxy,
      });
      return this.bulkHttp.get(url, headers, req.signal);
    }
    const https_ = url.protocol === 'https:';
    // Plain http through a proxy: the request goes to the proxy with the absolute URL (https tunnels: the agent).
    const viaProxy = https_ ? undefined : proxyFor(url, this.proxy);
    return new Promise<HttpResponse>((resolve, reject) => {
      if (req.signal?.aborted) return reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
      let r: http.ClientRequest;
      if (viaProxy) {
        const auth = proxyAuthorization(viaProxy);
        const lib = viaProxy.protocol === 'https:' ? https : http;
        r = lib.request({
          host: viaProxy.hostname.startsWith('[') ? viaProxy.hostname.slice(1, -1) : viaProxy.hostname,
          port: Number(viaProxy.port || (viaProxy.protocol === 'https:' ? 443 : 80)),
          method: req.method,
          path: url.href,
          headers: { ...headers, host: url.host, ...(auth ? { 'proxy-authorization': auth } : {}) },
          agent: viaProxy.protocol === 'https:' ? false : this.httpAgent,
          timeout: this.timeoutMs,
        });
      } else {
        r = (https_ ? https : http).request(url, { method: req.method, headers, agent: https_ ? this.httpsAgent : this.httpAgent, timeout: this.timeoutMs });
      }
      const onAbort = () => r.destroy(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      // The idle timeout alone lets a server that trickles the head byte by byte hold the request forever.
      // The deadline runs from the end of the request body (a large upload takes as long as it takes).
      let headTimer: NodeJS.Timeout | undefined;
      let answered = false;
      r.on('finish', () => {
        if (answered) return;
        headTimer = setTimeout(
          () => r.destroy(new NetworkError(`${url.host} sent no complete response head within ${this.headDeadlineMs} ms`, 'ETIMEDOUT')),
          this.headDeadlineMs,
        );
      });
      r.on('close', () => clearTimeout(headTimer));
      r.on('timeout', () => r.destroy(new NetworkError(`No answer from ${url.host} for ${this.timeoutMs} ms`, 'ETIMEDOUT')));
      r.on('error', (err) => {
        req.signal?.removeEventListener('abort', onAbort);
        const failure =
          viaProxy && !(err instanceof FlightDeckError || err instanceof NetworkError) ? proxyError(viaProxy, url.host, err) : toNetworkError(err, url);
        if (failure instanceof NetworkError && r.reusedSocket && !answered && failure.code !== 'ETIMEDOUT') failure.staleConnection = true;
        reject(failure);
      });
      r.on('response', (res) => {
        answered = true;
        clearTimeout(headTimer);
        res.on('close', () => req.signal?.removeEventListener('abort', onAbort));
        if (viaProxy && res.statusCode === 407) {
          res.resume();
          return reject(proxyAuthRequired(viaProxy, url.host));
        }
        // While the body streams, an idle socket still times out.
        res.setTimeout?.(this.timeoutMs, () => res.destroy(new NetworkError(`${url.host} stopped sending for ${this.timeoutMs} ms`, 'ETIMEDOUT')));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        req.body.on('error', (err) => r.destroy(err));
        req.body.pipe(r);
      }
    });
  }

  /**
   * Close the kept-alive connections that sit idle in the pools (requests under way keep theirs): after a
   * request was cut on a reused connection, its resend then opens a new one instead of taking another
   * idle connection the server or proxy may have closed at the same moment.
   */
  dropIdleConnections(): void {
    for (const agent of [this.httpAgent, this.httpsAgent]) {
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
  }

  close(): void {
    this.bulkHttp?.close();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * The https agent: a direct TLS connection, or TLS inside a CONNECT tunnel when a proxy applies to the
 * target. node:http calls `createConnection(options, callback)` and waits for the callback when it
 * returns nothing, so the tunnel can be set up asynchronously; keep-alive pooling is per target as usual.
 */
class TunnellingAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly proxy: ProxySetting,
    private readonly timeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(request: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const options = request as tls.ConnectionOptions & { host?: string; port?: number };
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const via = proxyFor(new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`), this.proxy);
    if (!via) return tls.connect(options);
    connectTunnel(via, host, port, { timeoutMs: this.timeoutMs }).then(
      (socket) => callback?.(null, tls.connect({ ...options, socket, servername: options.servername ?? (isIpHost(host) ? undefined : host) })),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

function isIpHost(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Read a whole (small) body with a byte cap; throws `onOver()` when it is exceeded. */
export async function readBody(res: HttpResponse, max: number, onOver: () => Error): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw onOver();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > max) {
        res.body.destroy();
        throw onOver();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw toNetworkError(err, res.url);
  }
  return Buffer.concat(chunks);
}

/** Drain and discard a body so the socket can be reused. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    res.body.resume();
    await new Promise<void>((resolve) => {
      if (res.body.complete || res.body.destroyed) return resolve();
      res.body.once('end', resolve);
      res.body.once('close', resolve);
      res.body.once('error', () => resolve());
    });
  } catch {
    // ignore
  }
}
