/**
 * One api call, given its contract entry and its handler: validate the input, run the handler, validate the
 * output, and return an envelope with secrets scrubbed. dispatch.ts runs it with the whole contract (IPC,
 * web host); lazy.ts with one area's entry (the CLI). Imports no schema, so it costs nothing to load.
 */
import type { z } from 'zod';
import type { CallContext } from './dispatch.js';
import type { Envelope } from './contract.js';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import { redactValue } from '../credentials/redact.js';

/** The part of a contract entry a call needs. */
export interface CallSpec {
  input: z.ZodType;
  output: z.ZodType;
}

export type AnyHandler = (input: unknown, ctx: CallContext) => Promise<unknown>;

export async function runCall(spec: CallSpec, handler: AnyHandler, method: string, input: unknown, ctx: Partial<CallContext> = {}): Promise<Envelope<unknown>> {
  try {
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'input';
      throw new FlightDeckError('INVALID_INPUT', `Invalid ${where} for ${method}: ${issue?.message ?? 'rejected'}.`);
    }
    const value = await handler(parsed.data, {
      signal: ctx.signal,
      emit: ctx.emit ?? (() => {}),
    });
    return { ok: true, value: redactValue(spec.output.parse(value)) };
  } catch (err) {
    return failedCall(err);
  }
}

/** The envelope of a call that failed before or while running. */
export function failedCall(err: unknown): Envelope<unknown> {
  return { ok: false, error: redactValue(toFlightDeckError(err).toJSON()) };
}

/** The error of a method name the api does not have. */
export function unknownMethod(method: unknown): FlightDeckError {
  return new FlightDeckError('INVALID_INPUT', `Unknown api method ${JSON.stringify(String(method)).slice(0, 80)}.`, {
    hint: 'The caller and the app are out of sync; restart Flight Deck.',
  });
}
