/**
 * "Test connection" for one registry, step by step as a platform engineer debugs a lab registry: the
 * effective settings, DNS, the proxy used (and its CONNECT tunnel), TCP, the TLS chain and the CA that
 * verified it, whether the client certificate was accepted, the HTTP answer of `/v2/` and its auth
 * challenge. No credential is sent: this tests the connection, `credentials test` tests the credentials.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls, { rootCertificates } from 'node:tls';
import { FlightDeckError } from '../errors.js';
import { parseChallenge } from '../oci/auth.js';
import { RegistryClient, type ClientOptions } from '../oci/client.js';
import { discard } from '../oci/http.js';
import { connectTunnel, proxyFor, redactProxy } from '../oci/proxy.js';
import { tlsError } from '../oci/tls-errors.js';
import type { ConnectionStep, ConnectionTest } from './schema.js';
import { settingsReport, type ResolvedRegistry, type TlsMaterial } from './settings.js';

const STEP_TIMEOUT_MS = 10_000;

function codeOf(err: unknown): string | undefined {
  return err instanceof FlightDeckError ? err.code : ((err as NodeJS.ErrnoException).code ?? undefined);
}

function withTimeout<T>(p: Promise<T>, what: string, cleanup?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        cleanup?.();
        reject(Object.assign(new Error(`${what}: no answer within ${STEP_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
      }, STEP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function tcpConnect(host: string, port: number): Promise<net.Socket> {
  const s = net.connect({ host, port });
  return withTimeout(
    new Promise<net.Socket>((resolve, reject) => {
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
    `TCP ${host}:${port}`,
    () => s.destroy(),
  );
}

export async function testConnection(
  r: ResolvedRegistry,
  material: () => Promise<TlsMaterial>,
  clientOptions: () => Promise<ClientOptions>,
  signal?: AbortSignal,
): Promise<ConnectionTest> {
  const steps: ConnectionStep[] = [];
  const result = (): ConnectionTest => ({ registry: r.host, ok: steps.every((s) => s.status !== 'fail'), settings: settingsReport(r), steps });
  const fail = (step: ConnectionStep['step'], err: unknown, detail?: string) =>
    steps.push({ step, status: 'fail', detail: detail ?? (err as Error).message, ...(codeOf(err) ? { code: codeOf(err) } : {}) });

  if (r.blocked) {
    steps.push({ step: 'settings', status: 'fail', detail: `blocked by ${r.sources.blocked?.from ?? r.sources.blocked?.origin}`, code: 'REGISTRY_BLOCKED' });
    return result();
  }
  let tlsm: TlsMaterial;
  try {
    tlsm = await material();
  } catch (err) {
    fail('settings', err);
    return result();
  }
  const warnings = [...r.warnings, ...tlsm.warnings];
  steps.push({ step: 'settings', status: 'ok', detail: `${r.scheme}://${r.host}${warnings.length ? `; ${warnings.join('; ')}` : ''}` });

  const base = new URL(`${r.scheme}://${r.host}`);
  const host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = Number(base.port || (r.scheme === 'https' ? 443 : 80));
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(base, r.proxy);
  } catch (err) {
    fail('proxy', err);
    return result();
  }

  // DNS: the registry's name (through a proxy, the proxy resolves it: a local failure is not fatal).
  try {
    const addrs = net.isIP(host) ? [{ address: host }] : await withTimeout(lookup(host, { all: true }), `DNS ${host}`);
    steps.push({ step: 'dns', status: 'ok', detail: `${host} → ${addrs.map((a) => a.address).join(', ')}` });
  } catch (err) {
    if (proxy) steps.push({ step: 'dns', status: 'skip', detail: `${host} does not resolve here (${codeOf(err)}); the proxy resolves it` });
    else {
      fail('dns', err, `${host} does not resolve: ${codeOf(err) ?? (err as Error).message}`);
      return result();
    }
  }

  // Proxy and TCP: a CONNECT tunnel for https through a proxy, else a TCP connection (to the proxy or the registry).
  let socket: net.Socket | undefined;
  try {
    if (proxy && r.scheme === 'https') {
      socket = await connectTunnel(proxy, host, port, { timeoutMs: STEP_TIMEOUT_MS, signal });
      steps.push({
        step: 'proxy',
        status: 'ok',
        detail: `CONNECT ${r.host} through ${redactProxy(proxy)} (from ${r.sources.proxy?.from ?? r.sources.proxy?.origin})`,
      });
      steps.push({ step: 'tcp', status: 'ok', detail: `tunnel open to ${host}:${port}` });
    } else if (proxy) {
      const p = await tcpConnect(proxy.hostname, Number(proxy.port || 80));
      p.destroy();
      steps.push({ step: 'proxy', status: 'ok', detail: `plain http through ${redactProxy(proxy)} (absolute-form requests)` });
      steps.push({ step: 'tcp', status: 'skip', detail: 'the proxy connects to the registry' });
    } else {
      steps.push({ step: 'proxy', status: 'skip', detail: `direct (${r.sources.proxy?.from ?? r.sources.proxy?.origin})` });
      socket = await tcpConnect(host, port);
      steps.push({ step: 'tcp', status: 'ok', detail: `connected to ${socket.remoteAddress}:${socket.remotePort}` });
    }
  } catch (err) {
    fail(proxy ? 'proxy' : 'tcp', err);
    return result();
  }

  // TLS: the handshake with this registry's trust settings; the chain and the CA at its top.
  if (r.scheme === 'https' && socket) {
    const s = tls.connect({
      socket,
      servername: net.isIP(host) ? undefined : host,
      ...(tlsm.ca.length ? { ca: [...rootCertificates, ...tlsm.ca] } : {}),
      ...(tlsm.cert && tlsm.key ? { cert: tlsm.cert, key: tlsm.key } : {}),
      rejectUnauthorized: !r.insecure,
      ALPNProtocols: ['http/1.1'],
    });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          s.once('secureConnect', resolve);
          s.once('error', reject);
        }),
        `TLS ${r.host}`,
        () => s.destroy(),
      );
      let cert = s.getPeerCertificate(true);
      const chain: string[] = [];
      const seen = new Set<string>();
      while (cert?.subject && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(String(cert.subject.CN ?? cert.subject.O ?? '?'));
        if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
        cert = cert.issuerCertificate;
      }
      const top = cert?.issuer ? String(cert.issuer.CN ?? cert.issuer.O ?? '?') : '?';
      const verified = s.authorized
        ? `verified by "${top}" (${r.sources.ca?.from ?? r.sources.ca?.origin})`
        : `NOT verified (${String(s.authorizationError)}; insecure)`;
      steps.push({ step: 'tls', status: 'ok', detail: `${s.getProtocol() ?? 'TLS'}, chain ${chain.join(' ← ')}; ${verified}` });
    } catch (err) {
      const mapped = await tlsError(
        codeOf(err) ?? 'ETLS',
        (err as Error).message,
        {
          registry: r.host,
          clientCert: tlsm.cert !== undefined,
          certsDir: r.certsDir,
          base,
          proxy: r.proxy,
        },
        err,
      ).catch(() => undefined);
      fail(mapped?.code.startsWith('TLS_CLIENT') ? 'client-cert' : 'tls', mapped ?? err);
      s.destroy();
      return result();
    } finally {
      s.destroy();
    }
  } else {
    socket?.destroy();
    steps.push({ step: 'tls', status: 'skip', detail: 'plain http' });
  }

  // The registry's answer to /v2/ without credentials (a TLS 1.3 server refuses a client certificate only now).
  const client = new RegistryClient(r.host, { ...(await clientOptions()), retries: 0 });
  try {
    const res = await client.request({ method: 'GET', path: '/v2/', scopes: [], signal, retry: false }).catch((err: unknown) => {
      if (err instanceof FlightDeckError && err.code === 'REGISTRY_UNAUTHORIZED') return 'challenge' as const;
      throw err;
    });
    if (r.scheme === 'https') {
      steps.push({
        step: 'client-cert',
        status: 'ok',
        detail: tlsm.cert ? `accepted (${r.sources.clientCert?.from ?? r.sources.clientCert?.origin})` : 'none presented, none required',
      });
    }
    if (res === 'challenge') {
      steps.push({ step: 'http', status: 'ok', detail: 'GET /v2/ → 401' });
      steps.push({ step: 'auth', status: 'ok', detail: 'credentials required (the challenge was not answered: no credential is sent by this test)' });
    } else {
      const challenge = parseChallenge(Array.isArray(res.headers['www-authenticate']) ? res.headers['www-authenticate'][0] : res.headers['www-authenticate']);
      await discard(res);
      steps.push({ step: 'http', status: res.status === 200 || res.status === 401 ? 'ok' : 'fail', detail: `GET /v2/ → ${res.status}` });
      steps.push({
        step: 'auth',
        status: 'ok',
        detail:
          res.status === 200
            ? 'anonymous access'
            : challenge
              ? `${challenge.scheme}${challenge.params.realm ? ` (realm ${challenge.params.realm})` : ''}`
              : 'no challenge',
      });
    }
  } catch (err) {
    const code = codeOf(err);
    fail(code?.startsWith('TLS_CLIENT') ? 'client-cert' : 'http', err);
  } finally {
    client.close();
  }
  return result();
}
