import { ApiError } from '../../../core/api/client.js';
import { ERROR_TABLE, isErrorCode } from '../../../core/errors.js';

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

/** A problem a report lists (e.g. a kit verification), shown like an error: its code and that code's hint. */
export function problemError(problem: { code: string; message: string }): ShownError {
  const hint = isErrorCode(problem.code) ? ERROR_TABLE[problem.code].hint : ERROR_TABLE.KIT_INVALID.hint;
  return { code: problem.code, message: problem.message, hint };
}
