import { FlightDeckError } from '../errors.js';

/** The errors that mean the device went away (a cut cable, a reset), not that it refused. */
const LOST: string[] = ['DEVICE_DISCONNECTED', 'DEVICE_TIMEOUT', 'DEVICE_NOT_FOUND', 'SERIAL_UNAVAILABLE'];

/**
 * Run `attempt`; when the device goes away after it was seen (`windowMs()` > 0), try again every 500 ms
 * until it comes back or the window since the cut has passed (a new window after each time it answered
 * again: `connects()` counts handshakes). The device resumes from its durable mark.
 */
export async function withReconnect<T>(
  attempt: () => Promise<T>,
  windowMs: () => number,
  connects: () => number,
  signal: AbortSignal | undefined,
  onRetry: () => void,
): Promise<T> {
  let deadline: number | undefined;
  let seen = connects();
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (connects() !== seen) {
        seen = connects();
        deadline = undefined;
      }
      deadline ??= Date.now() + windowMs();
      if (!(err instanceof FlightDeckError) || !LOST.includes(err.code) || Date.now() >= deadline || signal?.aborted) throw err;
      onRetry();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
