/** Network-level failures of the registry transports (core/oci/http.ts, core/oci/http1.ts). */
import { FlightDeckError } from '../errors.js';

/** A network-level failure (refused, reset, timeout, TLS); retryable. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  /**
   * The request went out on a kept-alive connection that the server (or the proxy) closed before any
   * answer: the classic race of an idle connection closing as it is reused. Nothing was answered, so the
   * client sends it once more, on a new connection (core/oci/client.ts).
   */
  staleConnection = false;
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function toNetworkError(err: unknown, url: URL): Error {
  if (err instanceof FlightDeckError || err instanceof NetworkError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'ENETWORK';
  return new NetworkError(`${url.host}: ${(err as Error).message}`, code, { cause: err });
}
