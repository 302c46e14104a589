import type { CallContext, Handlers } from '../core/api/dispatch.js';
import { createLazyApi } from '../core/api/lazy.js';
import type { Input, Method, Output } from '../core/api/contract.js';
import { FlightDeckError } from '../core/errors.js';
import type { ApiDeps } from '../core/api/context.js';
import type { FlagCredential } from '../core/credentials/env.js';
import type { ScopedRegistryFlags } from '../core/oci/access.js';
import { nativeApiDeps } from '../composition/deps.js';

const deps: ApiDeps = nativeApiDeps();
// A command runs one method: load only its area (core/api/lazy.ts), not every schema and handler.
const lazy = createLazyApi(deps, { oneShot: true });
let handlers: Handlers | undefined;

/**
 * The composition root: every core handler wired to the native-bridge adapters, for `serve` (the web host
 * serves every method). Once loaded, callApi goes through them too, so `serve`'s own calls (stopping the
 * emulator its page started) reach the same handlers.
 */
export async function appHandlers(): Promise<Handlers> {
  if (!handlers) {
    const { createHandlers } = await import('../core/api/service.js');
    handlers ??= createHandlers(deps);
  }
  return handlers;
}

/** Registry credentials given on this command line (`--username` + `--password-stdin`), for `flag.registry` only. */
export function useFlagCredential(flag: FlagCredential): void {
  deps.flagCredential = flag;
}

/** The registry of this command's target: the only one an env token (FLIGHTDECK_REGISTRY_TOKEN) is sent to. */
export function useCommandRegistry(registry: string | undefined): void {
  deps.commandRegistry = registry;
}

/** Connection flags of this command line (`--ca-file`, `--cert-dir`, `-H`, ...), for `scoped.registry` only. */
export function useRegistryFlags(scoped: ScopedRegistryFlags): void {
  deps.registryFlags = scoped;
}

/** Warnings of the registry settings (a client key others can read) go where the command's warnings go. */
export function useWarnings(warn: (message: string) => void): void {
  deps.warn = warn;
}

/** Call the api exactly as the UI does (same validation, same envelope), unwrapping for the CLI. */
export async function callApi<M extends Method>(method: M, input: Input<M>, ctx: Partial<CallContext<M>> = {}): Promise<Output<M>> {
  // dispatch runs the handler of `method` (M), which emits only EventOf<M>: ctx.emit sees nothing else.
  const call = ctx as Partial<CallContext>;
  const envelope = handlers ? await (await import('../core/api/dispatch.js')).dispatch(handlers, method, input, call) : await lazy.call(method, input, call);
  if (!envelope.ok) {
    throw new FlightDeckError(envelope.error.code, envelope.error.message, {
      hint: envelope.error.hint,
      ...(envelope.error.details ? { details: envelope.error.details } : {}),
    });
  }
  return envelope.value as Output<M>;
}
