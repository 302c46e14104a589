import { ApiError } from '../../../core/api/client.js';
import { ERROR_TABLE } from '../../../core/errors.js';

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

/**
 * A problem of a kit verification, shown like an error: its own code, and the hint of the error that refuses
 * such a kit (signature codes keep theirs; every integrity problem refuses the kit as KIT_INVALID).
 */
export function kitProblemError(problem: { code: string; message: string }): ShownError {
  const refusal = problem.code === 'SIGNATURE_REQUIRED' || problem.code === 'SIGNATURE_INVALID' ? problem.code : 'KIT_INVALID';
  return { code: problem.code, message: problem.message, hint: ERROR_TABLE[refusal].hint };
}
