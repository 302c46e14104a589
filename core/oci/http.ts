/**
 * A thin HTTP layer on node:http/https: keep-alive agents per client (with an optional extra CA or TLS
 * verification off for `--insecure`), streaming response bodies, an idle timeout, abort, and no
 * automatic redirects (the registry client follows them itself so Authorization never leaves its host).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { FlightDeckError } from '../errors.js';

export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted for this client, besides the system store and NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | undefined;
  /** Skip TLS certificate verification (`--insecure`). */
  insecure?: boolean | undefined;
  /** Idle socket timeout: no byte for this long fails the request. Default 30 s. */
  timeoutMs?: number | undefined;
  /** Parallel connections per host. */
  maxSockets?: number | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable | undefined;
  signal?: AbortSignal | undefined;
}

/** A network-level failure (refused, reset, timeout, TLS); retryable. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;

  constructor(opts: TransportOptions = {}) {
    const maxSockets = opts.maxSockets ?? 16;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    const tls: https.AgentOptions = { keepAlive: true, maxSockets };
    if (opts.insecure) tls.rejectUnauthorized = false;
    if (opts.ca) {
      // Adding `ca` replaces the default roots, so keep them.
      tls.ca = [...rootCertificates, opts.ca.toString()];
    }
    this.httpsAgent = new https.Agent(tls);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const { url } = req;
    const lib = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise<HttpResponse>((resolve, reject) => {
      if (req.signal?.aborted) return reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      const headers: Record<string, string | number> = { 'user-agent': 'flightdeck', ...req.headers };
      if (Buffer.isBuffer(req.body)) headers['content-length'] = req.body.length;
      const r = lib.request(url, { method: req.method, headers, agent, timeout: this.timeoutMs });
      const onAbort = () => r.destroy(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('timeout', () => r.destroy(new NetworkError(`No answer from ${url.host} for ${this.timeoutMs} ms`, 'ETIMEDOUT')));
      r.on('error', (err) => {
        req.signal?.removeEventListener('abort', onAbort);
        reject(toNetworkError(err, url));
      });
      r.on('response', (res) => {
        res.on('close', () => req.signal?.removeEventListener('abort', onAbort));
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

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function toNetworkError(err: unknown, url: URL): Error {
  if (err instanceof FlightDeckError || err instanceof NetworkError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'ENETWORK';
  return new NetworkError(`${url.host}: ${(err as Error).message}`, code, { cause: err });
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
