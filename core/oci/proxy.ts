/**
 * Forward proxies for the registry transports (core/oci/http.ts, core/oci/http1.ts), as curl has them:
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY in either case (parsed by `proxy-from-env`; a host is proxied unless
 * NO_PROXY matches it, loopback included), or a fixed per-registry proxy (config.json `proxy`), or none.
 * https targets go through an HTTP CONNECT tunnel (TLS to the registry then runs inside it, so the proxy
 * sees only the host name); http targets are sent to the proxy in absolute form. Proxy credentials come
 * from the proxy URL, are registered as secrets (never printed) and are sent only to the proxy.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { getProxyForUrl } from 'proxy-from-env';
import { FlightDeckError } from '../errors.js';
import { registerSecret } from '../credentials/redact.js';
import { NetworkError } from './http-error.js';

/** How a transport finds its proxy: from the environment, one fixed URL, or never. */
export type ProxySetting = { kind: 'env' } | { kind: 'url'; url: URL } | { kind: 'direct' };

/** The proxy for a request to `target`, or undefined for a direct connection. */
export function proxyFor(target: URL, setting: ProxySetting | undefined): URL | undefined {
  const s = setting ?? { kind: 'env' };
  if (s.kind === 'direct') return undefined;
  if (s.kind === 'url') return s.url;
  const found = getProxyForUrl(target.href);
  if (!found) return undefined;
  let url: URL;
  try {
    // curl takes `host:port` without a scheme as http://
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(found) ? found : `http://${found}`);
  } catch {
    throw new FlightDeckError('CONFIG_INVALID', `The proxy environment variable for ${target.protocol}// is not a URL.`, {
      hint: 'Set HTTPS_PROXY / HTTP_PROXY to http://[user:password@]host:port.',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FlightDeckError('CONFIG_INVALID', `The proxy ${redactProxy(url)} uses ${url.protocol}; only http:// and https:// proxies are supported.`);
  }
  return url;
}

/** The proxy URL without credentials, for messages and reports. */
export function redactProxy(url: URL): string {
  return `${url.protocol}//${url.username ? '***@' : ''}${url.host}`;
}

/** `Proxy-Authorization` for a proxy URL with credentials (registered as secrets). */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  registerSecret(pass);
  const header = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  registerSecret(header.slice(6));
  return header;
}

/** Codes of a proxy that cannot be connected to at all: no retry helps (a wrong address or port). */
const PROXY_DEAD = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A proxy-level failure as an error the client reports as is. */
export function proxyError(proxy: URL, target: string, err: unknown): Error {
  if (err instanceof FlightDeckError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'ENETWORK';
  const message = `Proxy ${redactProxy(proxy)} (for ${target}) is unreachable: ${code}`;
  if (PROXY_DEAD.has(code)) {
    return new FlightDeckError('PROXY_UNREACHABLE', message, { details: { proxy: redactProxy(proxy), target, code } });
  }
  // Resets and timeouts may pass: retried by the client, then reported as PROXY_UNREACHABLE.
  return new NetworkError(message, `EPROXY_${code}`, { cause: err });
}

/** The proxy wants (other) credentials: 407. */
export function proxyAuthRequired(proxy: URL, target: string): FlightDeckError {
  return new FlightDeckError(
    'PROXY_AUTH_REQUIRED',
    `Proxy ${redactProxy(proxy)} ${proxy.username ? 'refused the credentials in its URL' : 'asked for credentials'} (407) to reach ${target}.`,
    { details: { proxy: redactProxy(proxy), target, status: 407 } },
  );
}

/** The proxy answered CONNECT with something else than 200. */
function connectRefused(proxy: URL, target: string, status: number): Error {
  // 401 to a CONNECT can only be the proxy's (tinyproxy answers wrong credentials so).
  if (status === 407 || status === 401) return proxyAuthRequired(proxy, target);
  if (status === 502 || status === 503 || status === 504) {
    return new NetworkError(`Proxy ${redactProxy(proxy)} could not reach ${target} (HTTP ${status})`, 'EPROXY_UPSTREAM');
  }
  return new FlightDeckError('PROXY_UNREACHABLE', `Proxy ${redactProxy(proxy)} refused to tunnel to ${target} (HTTP ${status}).`, {
    hint: 'The proxy does not allow CONNECT to this host and port (tinyproxy: ConnectPort; squid: SSL_ports); ask its operator, or add the registry to NO_PROXY.',
    details: { proxy: redactProxy(proxy), target, status },
  });
}

/**
 * An HTTP CONNECT tunnel through `proxy` to `host:port`: the raw socket, over which the caller runs TLS.
 * Bounded by `timeoutMs` of silence and by `signal`.
 */
export function connectTunnel(proxy: URL, host: string, port: number, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<net.Socket> {
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise<net.Socket>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
    const headers: Record<string, string> = { host: target };
    const auth = proxyAuthorization(proxy);
    if (auth) headers['proxy-authorization'] = auth;
    const lib = proxy.protocol === 'https:' ? https : http;
    const req = lib.request({
      host: proxy.hostname.startsWith('[') ? proxy.hostname.slice(1, -1) : proxy.hostname,
      port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
      timeout: opts.timeoutMs,
    });
    let settled = false;
    const done = (err: Error | undefined, socket?: net.Socket) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(socket as net.Socket);
    };
    const onAbort = () => {
      req.destroy();
      done(new FlightDeckError('ABORTED', 'The operation was cancelled.'));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('timeout', () => {
      req.destroy();
      done(new NetworkError(`Proxy ${redactProxy(proxy)} did not answer CONNECT ${target} within ${opts.timeoutMs} ms`, 'EPROXY_ETIMEDOUT'));
    });
    req.on('error', (err) => done(proxyError(proxy, target, err)));
    req.on('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return done(connectRefused(proxy, target, res.statusCode ?? 0));
      }
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      done(undefined, socket);
    });
    // A proxy that answers CONNECT with a normal response (no upgrade to a tunnel).
    req.on('response', (res) => {
      res.resume();
      done(connectRefused(proxy, target, res.statusCode ?? 0));
    });
    req.end();
  });
}
