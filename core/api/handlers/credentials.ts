import type { AreaHandlers, ApiContext } from '../context.js';
import type { RegistryCredential } from '../../credentials/types.js';

type CredentialMethods = 'credentials.list' | 'credentials.login' | 'credentials.logout' | 'credentials.test';

/** Handlers of registry credentials (contracts/credentials.ts) over the credentials module in ApiContext. */
export function credentialsHandlers(ctx: ApiContext): AreaHandlers<CredentialMethods> {
  return {
    'credentials.list': (_input, call) => ctx.credentials.list(call.signal),
    async 'credentials.login'(input, call) {
      const credential: RegistryCredential =
        input.kind === 'basic'
          ? { kind: 'basic', username: input.username ?? '', password: input.secret, source: 'flag' }
          : { kind: input.kind, token: input.secret, source: 'flag', ...(input.username ? { username: input.username } : {}) };
      return ctx.credentials.login(input.registry, credential, { plainHttp: input.plainHttp, insecure: input.insecure, signal: call.signal });
    },
    'credentials.logout': (input) => ctx.credentials.logout(input.registry),
    'credentials.test': (input, call) => ctx.credentials.test(input.registry, { plainHttp: input.plainHttp, insecure: input.insecure, signal: call.signal }),
  };
}
