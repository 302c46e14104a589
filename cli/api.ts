import { createHandlers } from '../core/api/service.js';
import { dispatch, type CallContext, type Handlers } from '../core/api/dispatch.js';
import type { Input, Method, Output } from '../core/api/contract.js';
import { FlightDeckError } from '../core/errors.js';
import type { ApiDeps } from '../core/api/context.js';
import type { FlagCredential } from '../core/credentials/env.js';
import { nativeApiDeps } from '../composition/deps.js';

let handlers: Handlers | undefined;
const deps: ApiDeps = nativeApiDeps();

/** The composition root: core handlers wired to the native-bridge adapters. */
export function appHandlers(): Handlers {
  return (handlers ??= createHandlers(deps));
}

/** Registry credentials given on this command line (`--username` + `--password-stdin`), for `flag.registry` only. */
export function useFlagCredential(flag: FlagCredential): void {
  deps.flagCredential = flag;
}

/** The registry of this command's target: the only one an env token (FLIGHTDECK_REGISTRY_TOKEN) is sent to. */
export function useCommandRegistry(registry: string | undefined): void {
  deps.commandRegistry = registry;
}

/** Call the api exactly as the UI does (same validation, same envelope), unwrapping for the CLI. */
export async function callApi<M extends Method>(method: M, input: Input<M>, ctx: Partial<CallContext<M>> = {}): Promise<Output<M>> {
  // dispatch runs the handler of `method` (M), which emits only EventOf<M>: ctx.emit sees nothing else.
  const envelope = await dispatch(appHandlers(), method, input, ctx as Partial<CallContext>);
  if (!envelope.ok) {
    throw new FlightDeckError(envelope.error.code, envelope.error.message, {
      hint: envelope.error.hint,
      ...(envelope.error.details ? { details: envelope.error.details } : {}),
    });
  }
  return envelope.value as Output<M>;
}
