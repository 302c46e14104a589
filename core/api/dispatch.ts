import { contract, isMethod, type Envelope, type EventOf, type Method, type Output } from './contract.js';
import type { z } from 'zod';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import { redactValue } from '../credentials/redact.js';

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
 * The single entry point every transport uses (IPC, web host, CLI): validate the method name and the
 * input against the contract, run the handler, and return an envelope with secrets scrubbed.
 */
export async function dispatch(handlers: Handlers, method: unknown, input: unknown, ctx: Partial<CallContext> = {}): Promise<Envelope<unknown>> {
  try {
    if (!isMethod(method)) {
      throw new FlightDeckError('INVALID_INPUT', `Unknown api method ${JSON.stringify(String(method)).slice(0, 80)}.`, {
        hint: 'The caller and the app are out of sync; restart Flight Deck.',
      });
    }
    const spec = contract[method];
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'input';
      throw new FlightDeckError('INVALID_INPUT', `Invalid ${where} for ${method}: ${issue?.message ?? 'rejected'}.`);
    }
    const handler = handlers[method] as (i: unknown, c: CallContext) => Promise<unknown>;
    const value = await handler(parsed.data, {
      signal: ctx.signal,
      emit: ctx.emit ?? (() => {}),
    });
    return { ok: true, value: redactValue(spec.output.parse(value)) };
  } catch (err) {
    return { ok: false, error: redactValue(toFlightDeckError(err).toJSON()) };
  }
}
