/**
 * The auth state of one registry client (as oras-go's `registry/remote/auth`): the credential (asked for
 * once), the Bearer token cache per scope set with one token fetch in flight per scope, Basic once the
 * registry asked for it, and the rule that an https registry's token realm must be https
 * (REGISTRY_UNSAFE). Challenge parsing and the token exchange itself are in `auth.ts`. Only the
 * registry's own origin may challenge: `RegistryClient` never hands a 401 from elsewhere to `answer`.
 */
import { FlightDeckError } from '../errors.js';
import { registerSecret } from '../credentials/redact.js';
import type { CredentialProvider, RegistryCredential } from '../credentials/types.js';
import { basicHeader, fetchToken, type Challenge, type TokenResult } from './auth.js';
import type { Transport } from './http.js';

export class AuthSession {
  private credential: Promise<RegistryCredential | undefined> | undefined;
  private readonly tokens = new Map<string, TokenResult>();
  private basic: string | undefined;
  private readonly tokenFetches = new Map<string, Promise<TokenResult>>();

  constructor(
    private readonly registry: string,
    private readonly base: URL,
    private readonly transport: Transport,
    private readonly credentials: CredentialProvider | undefined,
  ) {}

  /** How this client has been authenticating so far. */
  scheme(): 'anonymous' | 'basic' | 'bearer' {
    if (this.tokens.size > 0) return 'bearer';
    if (this.basic) return 'basic';
    return 'anonymous';
  }

  /** The registry's credential, asked for once (and registered for redaction). */
  cred(signal?: AbortSignal): Promise<RegistryCredential | undefined> {
    this.credential ??= (this.credentials?.(this.registry, signal) ?? Promise.resolve(undefined)).then((c) => {
      if (c?.kind === 'basic') registerSecret(c.password);
      else if (c) registerSecret(c.token);
      return c;
    });
    return this.credential;
  }

  private scopeKey(scopes: string[]): string {
    return [...scopes].sort().join(' ');
  }

  /** The Authorization for a request needing `scopes`: a cached token, Basic, a static bearer, or none. */
  async header(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const token = this.tokens.get(this.scopeKey(scopes));
    if (token && token.expiresAt > Date.now()) return token.header;
    if (this.basic) return this.basic;
    const cred = await this.cred(signal);
    if (cred?.kind === 'bearer') return `Bearer ${cred.token}`;
    return undefined;
  }

  /**
   * Answer a 401 challenge: fetch a token or switch to Basic. False when there is nothing (new) to try.
   * `used` is the Authorization the refused request carried: when a parallel request already obtained a
   * newer one, that one is tried instead of asking again.
   */
  async answer(challenge: Challenge | undefined, scopes: string[], used: string | undefined, signal?: AbortSignal): Promise<boolean> {
    const cred = await this.cred(signal);
    const key = this.scopeKey(scopes);
    if (challenge?.scheme === 'bearer') {
      if (cred?.kind === 'bearer') return false;
      const cached = this.tokens.get(key);
      if (cached && cached.header !== used && cached.expiresAt > Date.now()) return true;
      let pending = this.tokenFetches.get(key);
      if (!pending) {
        this.checkRealm(challenge);
        pending = fetchToken(this.transport, challenge, scopes, cred, this.registry, signal).finally(() => this.tokenFetches.delete(key));
        this.tokenFetches.set(key, pending);
      }
      this.tokens.set(key, await pending);
      return true;
    }
    if (challenge?.scheme === 'basic' && cred?.kind === 'basic') {
      if (this.basic) return this.basic !== used;
      this.basic = basicHeader(cred.username, cred.password);
      return true;
    }
    return false;
  }

  /** An https registry's token realm must be https too: credentials and tokens never travel in clear. */
  private checkRealm(challenge: Challenge): void {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      return; // fetchToken reports an unusable realm
    }
    if (this.base.protocol === 'https:' && realm.protocol === 'http:') {
      throw new FlightDeckError(
        'REGISTRY_UNSAFE',
        `${this.registry} (https) names a plain-http token service ${realm.host}; refused, so no credential is sent there.`,
        {
          hint: 'The token realm of an https registry must be an https URL; ask the registry operator to fix its auth.token.realm.',
          details: { registry: this.registry, realm: `${realm.protocol}//${realm.host}${realm.pathname}` },
        },
      );
    }
  }
}
