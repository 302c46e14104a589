/**
 * A small Bearer token server for docker-registry's `auth.token`: issues RS256 JWTs whose `x5c` header
 * carries the certificate listed in the registry's `rootcertbundle`. Users come from a map; anonymous
 * requests get pull-only access when `anonymousPull` is set. Every request is recorded (never secrets).
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  requests: Array<{ account: string | undefined; scopes: string[]; authorized: boolean }>;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(opts: {
  cert: string;
  key: string;
  users: Record<string, string>;
  /** Actions a user may have per repository (default pull,push everywhere). */
  pushAllowed?: (user: string, repo: string) => boolean;
  anonymousPull?: boolean;
  ttlSeconds?: number;
  /** OAuth2 refresh tokens (docker's identity tokens) → user, for `POST grant_type=refresh_token`. */
  refreshTokens?: Record<string, string>;
}): Promise<TokenServer> {
  const key = createPrivateKey(readFileSync(opts.key));
  const der = new X509Certificate(readFileSync(opts.cert)).raw;
  const service = 'flightdeck-registry';
  const issuer = 'flightdeck-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => issue(req, res, new URLSearchParams(body)));
      return;
    }
    issue(req, res, undefined);
  });
  /** GET with optional Basic (docker token spec), or POST form with grant_type=refresh_token (OAuth2 spec). */
  function issue(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams | undefined): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = (form ? form.getAll('scope') : url.searchParams.getAll('scope')).flatMap((s) => s.split(' ')).filter(Boolean);
    let account: string | undefined;
    const auth = req.headers.authorization;
    if (form) {
      const user = form.get('grant_type') === 'refresh_token' ? opts.refreshTokens?.[form.get('refresh_token') ?? ''] : undefined;
      if (!user) {
        requests.push({ account: undefined, scopes, authorized: false });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid refresh token"}');
        return;
      }
      account = user;
    } else if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (u === undefined || opts.users[u] !== p.join(':')) {
        requests.push({ account: u, scopes, authorized: false });
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      account = u;
    }
    if (!account && !opts.anonymousPull) {
      requests.push({ account, scopes, authorized: false });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"credentials required"}');
      return;
    }
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':');
      const wanted = (actions ?? '').split(',');
      const allowed = wanted.filter((a) =>
        type === 'registry'
          ? Boolean(account)
          : a === 'pull' || (a === 'push' && Boolean(account) && (opts.pushAllowed?.(account as string, name ?? '') ?? true)),
      );
      return { type, name, actions: allowed };
    });
    requests.push({ account, scopes, authorized: true });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: account ?? '', aud: service, exp: now + (opts.ttlSeconds ?? 300), nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    // The OAuth2 answer names it access_token; the docker token spec names it token.
    const answer = form ? { access_token: token, expires_in: opts.ttlSeconds ?? 300 } : { token, expires_in: opts.ttlSeconds ?? 300 };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
