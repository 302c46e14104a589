import { contract, isMethod, type Envelope, type EventOf, type Method, type Output } from './contract.js';
import type { z } from 'zod';
import { failedCall, runCall, unknownMethod, type AnyHandler } from './call.js';

/**
 * What a handler of M runs with. `in M`: a context is contravariant in its method, so one typed for a single
 * method (or a union) cannot be handed to a helper that would emit another method's events; a helper shared
 * by several methods takes `{ emit: (e: TheCommonEvent) => void }` instead.
 */
export interface CallContext<in M extends Method = Method> {
  signal: AbortSignal | undefined;
  /**
   * Progress and other events for long operations; transports forward them. Typed per method: a method
   * that declares `events` in the contract may emit only those.
   */
  emit: (event: EventOf<M>) => void;
}

type ParsedInput<M extends Method> = z.output<(typeof contract)[M]['input']>;

export type Handlers = {
  [M in Method]: (input: ParsedInput<M>, ctx: CallContext<M>) => Promise<Output<M>>;
};

/**
 * The single entry point of the transports that serve every method (IPC, web host): validate the method
 * name and the input against the contract, run the handler, and return an envelope with secrets scrubbed.
 * The CLI, which runs one method per command, goes through lazy.ts: the same runCall on one area's entry.
 */
export async function dispatch(handlers: Handlers, method: unknown, input: unknown, ctx: Partial<CallContext> = {}): Promise<Envelope<unknown>> {
  if (!isMethod(method)) return failedCall(unknownMethod(method));
  return runCall(contract[method], handlers[method] as AnyHandler, method, input, ctx);
}
