/**
 * What Flight Deck keeps in the OS keychain: service `flightdeck`, account = registry host, and as the
 * secret a small JSON record, so a username and the kind of credential travel with it:
 * `{"v":1,"kind":"basic","username":"bob","secret":"…","verifiedAt":"2026-11-26T10:00:00.000Z"}`.
 * A value that is not such a record (stored by hand, e.g. `secret-tool store`) is read as a bearer token.
 */
import { registerSecret } from './redact.js';
import type { RegistryCredential } from './types.js';

export interface KeychainRecord {
  v: 1;
  kind: RegistryCredential['kind'];
  username?: string;
  secret: string;
  verifiedAt?: string;
}

export function encodeRecord(cred: RegistryCredential, verifiedAt?: string): string {
  const record: KeychainRecord =
    cred.kind === 'basic'
      ? { v: 1, kind: 'basic', username: cred.username, secret: cred.password }
      : { v: 1, kind: cred.kind, secret: cred.token, ...(cred.kind === 'identity-token' && cred.username ? { username: cred.username } : {}) };
  return JSON.stringify(verifiedAt ? { ...record, verifiedAt } : record);
}

export function decodeRecord(value: string): KeychainRecord {
  try {
    const r = JSON.parse(value) as Partial<KeychainRecord>;
    if (r && r.v === 1 && typeof r.secret === 'string' && (r.kind === 'basic' || r.kind === 'identity-token' || r.kind === 'bearer')) {
      registerSecret(r.secret);
      return {
        v: 1,
        kind: r.kind,
        secret: r.secret,
        ...(typeof r.username === 'string' ? { username: r.username } : {}),
        ...(typeof r.verifiedAt === 'string' ? { verifiedAt: r.verifiedAt } : {}),
      };
    }
  } catch {
    // not JSON: a bare token
  }
  registerSecret(value);
  return { v: 1, kind: 'bearer', secret: value };
}

export function recordToCredential(r: KeychainRecord): RegistryCredential {
  if (r.kind === 'basic') return { kind: 'basic', username: r.username ?? '', password: r.secret, source: 'keychain' };
  if (r.kind === 'identity-token') return { kind: 'identity-token', token: r.secret, source: 'keychain', ...(r.username ? { username: r.username } : {}) };
  return { kind: 'bearer', token: r.secret, source: 'keychain' };
}
