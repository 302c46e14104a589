/**
 * Registry authentication: `WWW-Authenticate` parsing, the Bearer token flow (realm/service/scope, a
 * token cache per scope) and Basic. Every secret seen here is registered for redaction.
 */
import { FlightDeckError } from '../errors.js';
import { registerSecret } from '../credentials/redact.js';
import type { RegistryCredential } from '../credentials/types.js';
import { readBody, type Transport } from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer' | string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="...",service="...",scope="..."` (first challenge wins). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2] ?? '')) !== null) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme, params };
}

export function basicHeader(username: string, password: string): string {
  const value = Buffer.from(`${username}:${password}`).toString('base64');
  registerSecret(password);
  registerSecret(value);
  return `Basic ${value}`;
}

export interface TokenResult {
  header: string;
  expiresAt: number;
}

/**
 * Ask the token realm for a bearer token covering `scopes`. Anonymous when `cred` is undefined.
 * basic → GET with Basic; identity-token → POST grant_type=refresh_token (docker's identitytoken).
 */
export async function fetchToken(
  transport: Transport,
  challenge: Challenge,
  scopes: string[],
  cred: RegistryCredential | undefined,
  registry: string,
  signal?: AbortSignal,
): Promise<TokenResult> {
  const realm = challenge.params.realm;
  let url: URL;
  try {
    url = new URL(realm ?? '');
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new FlightDeckError('REGISTRY_ERROR', `${registry} sent a Bearer challenge without a usable realm (${JSON.stringify(realm ?? '')}).`);
  }
  const service = challenge.params.service;
  const allScopes = [...new Set([...(challenge.params.scope ? challenge.params.scope.split(' ') : []), ...scopes])].filter(Boolean);
  const headers: Record<string, string> = { accept: 'application/json' };
  let method = 'GET';
  let body: Buffer | undefined;
  if (cred?.kind === 'identity-token') {
    method = 'POST';
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.token, client_id: 'flightdeck' });
    if (service) form.set('service', service);
    if (allScopes.length > 0) form.set('scope', allScopes.join(' '));
    registerSecret(cred.token);
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = Buffer.from(form.toString());
  } else {
    if (service) url.searchParams.set('service', service);
    for (const s of allScopes) url.searchParams.append('scope', s);
    if (cred?.kind === 'basic') {
      url.searchParams.set('account', cred.username);
      headers.authorization = basicHeader(cred.username, cred.password);
    }
  }
  let res;
  try {
    res = await transport.request({ method, url, headers, body, signal });
  } catch (err) {
    if (err instanceof FlightDeckError) throw err;
    throw new FlightDeckError('REGISTRY_UNREACHABLE', `Token server ${url.host} for ${registry} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  const text = await readBody(res, 1024 * 1024, () => new FlightDeckError('REGISTRY_ERROR', `Token server ${url.host} sent an oversized answer.`));
  if (res.status === 401 || res.status === 403) {
    throw new FlightDeckError(
      'REGISTRY_UNAUTHORIZED',
      `${registry} refused the ${cred ? `credentials (${cred.source})` : 'anonymous request'}: token server answered ${res.status}.`,
      {
        details: { registry },
      },
    );
  }
  if (res.status !== 200) {
    throw new FlightDeckError('REGISTRY_ERROR', `Token server ${url.host} for ${registry} answered HTTP ${res.status}.`);
  }
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    json = JSON.parse(text.toString('utf8')) as typeof json;
  } catch {
    throw new FlightDeckError('REGISTRY_ERROR', `Token server ${url.host} for ${registry} did not answer JSON.`);
  }
  const token = typeof json.token === 'string' ? json.token : typeof json.access_token === 'string' ? json.access_token : undefined;
  if (!token) throw new FlightDeckError('REGISTRY_ERROR', `Token server ${url.host} for ${registry} answered without a token.`);
  registerSecret(token);
  const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
  return { header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(5, ttl - 10) * 1000 };
}
