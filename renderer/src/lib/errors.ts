import { ApiError } from '../../../core/api/client.js';

export interface ShownError {
  code: string;
  message: string;
  hint: string;
}

/** Every error the UI shows carries its stable code and hint. */
export function toShownError(err: unknown): ShownError {
  if (err instanceof ApiError) return { code: err.code, message: err.message, hint: err.hint };
  return {
    code: 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
    hint: 'Reload the window; if it persists, report it with the output of `flightdeck doctor`.',
  };
}

/** A problem of a kit verification, shown like an error: the server gives its code, message and hint. */
export function kitProblemError(problem: { code: string; message: string; hint: string }): ShownError {
  return { code: problem.code, message: problem.message, hint: problem.hint };
}
