/**
 * Errors are values with stable codes. `ERROR_TABLE` is the single source of truth: the CLI maps each
 * code to its exit code, the UI shows `title` and `hint`, and `docs/errors.md` is generated from it
 * (`npm run docs:errors`; a unit test fails when the doc is out of date).
 *
 * Exit code families (documented in docs/errors.md):
 *   1 internal · 2 usage · 3 bad input or data · 4 registry/network · 5 authentication
 *   6 integrity · 7 check failed · 8 device · 9 capability missing on this machine · 130 aborted
 */

export interface ErrorSpec {
  /** Process exit code the CLI uses for this error. */
  readonly exit: number;
  /** Short human title (the UI shows it as a heading). */
  readonly title: string;
  /** Default hint, used when the thrower gives none. */
  readonly hint: string;
}

export const ERROR_TABLE = {
  INTERNAL: {
    exit: 1,
    title: 'Internal error',
    hint: 'This is a bug in Flight Deck. Re-run with --verbose and report the output (secrets are redacted).',
  },
  USAGE: {
    exit: 2,
    title: 'Invalid command usage',
    hint: 'Run the command with --help to see its arguments and examples.',
  },
  INVALID_INPUT: {
    exit: 3,
    title: 'Invalid input',
    hint: 'Check the value named in the message against the documented format.',
  },
  CONFIG_INVALID: {
    exit: 3,
    title: 'Invalid configuration file',
    hint: 'Fix or remove the file named in the message; `flightdeck doctor` shows which files are read.',
  },
  CONFIG_CHANGED: {
    exit: 3,
    title: 'Settings changed meanwhile',
    hint: 'Another Flight Deck window or process changed this entry since you opened it: reload the settings and make your edit again.',
  },
  NOT_FOUND: {
    exit: 3,
    title: 'Not found',
    hint: 'Check the name or path; list what exists with the matching `ls` command.',
  },
  IO_ERROR: {
    exit: 3,
    title: 'File system error',
    hint: 'Check that the path exists, is writable and that the disk is not full.',
  },
  PORT_IN_USE: {
    exit: 3,
    title: 'Port in use',
    hint: 'Another program listens on that port (perhaps another `flightdeck serve`): pick another with --port, or --port 0 for any free port.',
  },
  REFERENCE_INVALID: {
    exit: 3,
    title: 'Invalid artifact reference',
    hint: 'Use host[:port]/repo[:tag][@sha256:<64 hex>] or oci:<dir>[:tag|@digest].',
  },
  REFERENCE_AMBIGUOUS: {
    exit: 3,
    title: 'Short name is ambiguous',
    hint: 'Write the full reference (host[:port]/repo[:tag]), or add an alias for the short name to registries.conf ([aliases] "name" = "host/repo").',
  },
  DIGEST_INVALID: {
    exit: 3,
    title: 'Invalid digest',
    hint: 'A digest looks like sha256:<64 lowercase hex characters>.',
  },
  LAYOUT_INVALID: {
    exit: 3,
    title: 'Invalid OCI image layout',
    hint: 'The directory must hold an `oci-layout` file, an `index.json` and `blobs/<alg>/<hex>` files.',
  },
  MANIFEST_INVALID: {
    exit: 3,
    title: 'Invalid manifest',
    hint: 'The manifest is not a valid OCI or Docker v2 manifest; check the media type and JSON.',
  },
  REGISTRY_UNREACHABLE: {
    exit: 4,
    title: 'Registry unreachable',
    hint: 'Check the host name, port and network; use --plain-http for a registry without TLS.',
  },
  REGISTRY_ERROR: {
    exit: 4,
    title: 'Registry error',
    hint: 'The registry answered with an error; the message carries its code. Retry later or check the reference.',
  },
  REGISTRY_UNAUTHORIZED: {
    exit: 5,
    title: 'Registry refused the credentials',
    hint: 'Run `flightdeck login <registry>` or set FLIGHTDECK_REGISTRY_TOKEN.',
  },
  REGISTRY_UNSAFE: {
    exit: 5,
    title: 'Registry asked for something unsafe',
    hint: 'Flight Deck refuses an https→http redirect and a plain-http token realm for an https registry, so no credential or content travels unencrypted; ask the registry operator to fix its redirect or token-service configuration.',
  },
  TLS_UNTRUSTED: {
    exit: 4,
    title: 'Registry certificate not trusted',
    hint: 'Add the CA that issued the registry\'s certificate: --ca-file FILE, a *.crt in --cert-dir DIR or in <certs.d>/<host[:port]>/, or "ca" for the registry in config.json (docs/registries.md).',
  },
  TLS_CLIENT_CERT_REQUIRED: {
    exit: 5,
    title: 'Registry requires a client certificate',
    hint: 'Give a client certificate and key: --cert-file FILE --key-file FILE, a *.cert + *.key pair in --cert-dir DIR or <certs.d>/<host[:port]>/, or "cert"/"key" in config.json (docs/registries.md).',
  },
  TLS_CLIENT_CERT_REJECTED: {
    exit: 5,
    title: 'Registry rejected the client certificate',
    hint: 'The registry does not accept this client certificate (wrong CA, expired, or not for this registry); ask its operator for one it trusts.',
  },
  PROXY_UNREACHABLE: {
    exit: 4,
    title: 'Proxy unreachable',
    hint: 'Check HTTPS_PROXY / HTTP_PROXY (or "proxy" for the registry in config.json); add the registry to NO_PROXY to bypass the proxy.',
  },
  PROXY_AUTH_REQUIRED: {
    exit: 5,
    title: 'Proxy requires authentication',
    hint: 'Put the proxy credentials in the proxy URL (http://user:password@proxy:3128); they are never logged.',
  },
  REGISTRY_BLOCKED: {
    exit: 4,
    title: 'Registry blocked',
    hint: 'A registries.conf or config.json entry marks this registry "blocked"; use another registry or remove the block.',
  },
  MIRROR_FAILED: {
    exit: 4,
    title: 'Every mirror and the registry failed',
    hint: 'Each endpoint tried is listed with its reason; fix the first one, or remove a broken mirror from registries.conf / config.json.',
  },
  CREDENTIAL_HELPER_FAILED: {
    exit: 5,
    title: 'Docker credential helper failed',
    hint: 'Run the helper named in the message by hand (`echo HOST | docker-credential-NAME get`) or fix credsStore/credHelpers in your docker config.json.',
  },
  REGISTRY_FORBIDDEN: {
    exit: 5,
    title: 'Registry denied access',
    hint: 'The credentials were accepted but lack permission for this repository or action; ask its owner for access.',
  },
  RATE_LIMITED: {
    exit: 4,
    title: 'Registry rate limit',
    hint: 'The registry kept answering 429 Too Many Requests; wait a while (see Retry-After) and run the command again.',
  },
  MANIFEST_TOO_LARGE: {
    exit: 3,
    title: 'Manifest too large',
    hint: 'Manifests are capped at 4 MiB; the registry or reference is probably wrong.',
  },
  MEDIA_TYPE_UNSUPPORTED: {
    exit: 3,
    title: 'Unsupported media type',
    hint: 'Flight Deck reads OCI image manifests and indexes and Docker v2 schema 2 manifests and lists.',
  },
  UNSAFE_PATH: {
    exit: 3,
    title: 'Unsafe path in artifact',
    hint: 'The artifact names a file outside the output folder (absolute path, `..`, an escaping link or a device file); nothing was written for it.',
  },
  DISK_FULL: {
    exit: 3,
    title: 'Disk full',
    hint: 'Free space on the disk holding the Flight Deck data folder (`flightdeck cache prune`) and retry.',
  },
  BLOB_DIGEST_MISMATCH: {
    exit: 6,
    title: 'Content digest mismatch',
    hint: 'The bytes received do not match their digest; nothing was stored. Retry; if it persists the source is corrupt.',
  },
  BLOB_CORRUPT: {
    exit: 6,
    title: 'Stored content is corrupt',
    hint: 'The copy in the content store was damaged on disk and was set aside (quarantine/); `flightdeck pull REF` fetches it again. For an oci: folder, the folder itself is damaged: copy it again.',
  },
  BLOB_SIZE_MISMATCH: {
    exit: 6,
    title: 'Content size mismatch',
    hint: 'The bytes received do not match the declared size; nothing was stored. Retry the operation.',
  },
  KIT_INVALID: {
    exit: 6,
    title: 'Invalid kit',
    hint: 'The kit is damaged or was altered (missing or tampered blob, index or lock file disagreeing, unsafe tar entry); nothing was imported. Rebuild it with `flightdeck kit build` and compare kit hashes.',
  },
  KIT_OUTPUT_EXISTS: {
    exit: 3,
    title: 'Kit output exists',
    hint: 'Choose another --output, pass --replace to swap the old kit for the new one once it is built and verified (the old kit stays if the build fails), or remove the old kit first.',
  },
  KIT_OUTPUT_BUSY: {
    exit: 3,
    title: 'Kit output in use',
    hint: 'Another Flight Deck process is building a kit at this output: wait for it to finish, or choose another --output.',
  },
  SIGNATURE_REQUIRED: {
    exit: 6,
    title: 'Signature required',
    hint: 'The signature policy requires this repository to be signed (`cosign sign --key`), and no signature was found; sign it or fix the policy file.',
  },
  SIGNATURE_INVALID: {
    exit: 6,
    title: 'Signature invalid',
    hint: 'A signature exists but does not verify with a key the policy accepts for this repository (wrong key, altered payload or another digest); do not flash this content.',
  },
  OFFLINE_MISS: {
    exit: 3,
    title: 'Not available offline',
    hint: 'With --offline only the local content store is used: import a kit that holds this reference (`flightdeck kit import KIT`) or run without --offline.',
  },
  WASM_MALFORMED: {
    exit: 3,
    title: 'Malformed WebAssembly binary',
    hint: 'The file is not a valid WASM module or component; rebuild it and check it with `wasm-validate`.',
  },
  BUNDLE_MALFORMED: {
    exit: 3,
    title: 'Malformed or unsafe bundle',
    hint: 'The tar+gzip bundle is corrupt or breaks a safety limit (size, compression ratio, `..` or absolute paths, links); rebuild it with plain files and relative paths.',
  },
  PLATFORM_UNKNOWN: {
    exit: 3,
    title: 'Unknown platform',
    hint: 'Run `flightdeck platforms` to list the known platform ids.',
  },
  LIMIT_MEMORY_EXCEEDED: {
    exit: 7,
    title: 'Payload exceeds the platform memory budget',
    hint: 'Lower the module’s initial/maximum memory or pick a platform with more memory.',
  },
  LIMIT_THREADS_EXCEEDED: {
    exit: 7,
    title: 'Payload needs more threads than the platform has',
    hint: 'Build a single-threaded variant or pick a multi-threaded platform.',
  },
  LIMIT_FEATURE_UNSUPPORTED: {
    exit: 7,
    title: 'Payload uses a WASM feature the platform lacks',
    hint: 'Rebuild without the feature named in the message.',
  },
  DEVICE_NOT_FOUND: {
    exit: 8,
    title: 'Device not found',
    hint: 'Run `flightdeck devices` to list attached kits and running emulators.',
  },
  DEVICE_DISCONNECTED: {
    exit: 8,
    title: 'Device disconnected',
    hint: 'Reconnect the kit and run the same command again; the upload resumes where it stopped.',
  },
  DEVICE_PROTOCOL_ERROR: {
    exit: 8,
    title: 'Device protocol error',
    hint: 'The device answered outside the Flight Deploy Protocol; check the port, line rate and firmware.',
  },
  DEVICE_URI_INVALID: {
    exit: 3,
    title: 'Invalid device address',
    hint: 'Use serial:///dev/ttyUSB0?baud=921600, usb://VID:PID[/SERIAL], tcp://host:port or a configured device name.',
  },
  PAYLOAD_INVALID: {
    exit: 3,
    title: 'Invalid payload',
    hint: 'Deploy a .wasm module or a platform bundle (.tar.gz with <platform>/manifest.json).',
  },
  PAYLOAD_CHECK_FAILED: {
    exit: 7,
    title: 'Payload does not fit the device',
    hint: 'Nothing was sent. Fix the findings listed, deploy a bundle built for this platform, or pass --force to let the device decide.',
  },
  DEVICE_PLATFORM_MISMATCH: {
    exit: 7,
    title: 'Device is a different platform',
    hint: 'Nothing was sent. Pick the payload or bundle built for the platform the device reports (`flightdeck device status URI`).',
  },
  DEVICE_REFUSED: {
    exit: 8,
    title: 'Device refused the request',
    hint: 'The device gave its reason in the message; the committed payload is unchanged.',
  },
  DEVICE_BUSY: {
    exit: 8,
    title: 'Device busy with another host',
    hint: 'Another host is deploying to this device; wait for it to finish (or disconnect) and run the deploy again, or pick another device.',
  },
  DEVICE_VERIFY_FAILED: {
    exit: 6,
    title: 'Device verification failed',
    hint: 'The device discarded the upload and kept the committed payload. Run the deploy again; it starts over.',
  },
  DEVICE_CHANGED: {
    exit: 8,
    title: 'A different device answered',
    hint: 'The kit that came back on this port has another serial number; nothing was sent to it. Check which kit is attached and run the deploy again.',
  },
  DEVICE_TIMEOUT: {
    exit: 8,
    title: 'Device stopped answering',
    hint: 'Check the cable, port and line rate (`flightdeck device status URI`); run the deploy again to resume.',
  },
  KEYCHAIN_UNAVAILABLE: {
    exit: 9,
    title: 'OS keychain unavailable',
    hint: 'Start or unlock the Secret Service (gnome-keyring) or, in CI, use FLIGHTDECK_REGISTRY_TOKEN.',
  },
  SERIAL_UNAVAILABLE: {
    exit: 9,
    title: 'Serial support unavailable',
    hint: 'Reinstall with `npm ci` so the optional `serialport` module builds; listing ports needs `udev` (apt install udev).',
  },
  USB_UNAVAILABLE: {
    exit: 9,
    title: 'USB support unavailable',
    hint: 'Reinstall with `npm ci` so the optional `usb` module builds, and check that /sys/bus/usb exists.',
  },
  ELECTRON_UNAVAILABLE: {
    exit: 9,
    title: 'Electron unavailable',
    hint: 'Install the Electron binary (`npx electron --version`) or use `flightdeck serve` and open the printed URL.',
  },
  TOOL_MISSING: {
    exit: 9,
    title: 'Required system tool missing',
    hint: 'Install the tool named in the message (see README, Troubleshooting).',
  },
  LAB_INVALID: {
    exit: 3,
    title: 'Invalid lab file',
    hint: 'Fix the line and key named in the message; docs/lab.md shows a lab file and docs/schemas/lab.schema.json its schema.',
  },
  LAB_LOCK_STALE: {
    exit: 3,
    title: 'Lab lock missing or out of date',
    hint: 'Run `flightdeck lab lock` to resolve the lab file again, review the change, and commit the lock beside the lab file.',
  },
  LAB_DRIFT: {
    exit: 7,
    title: 'Lab devices drifted',
    hint: 'A kit runs something other than its locked payload; `flightdeck lab deploy` brings it back into sync.',
  },
  LAB_DEVICE_OFFLINE: {
    exit: 8,
    title: 'Lab devices offline',
    hint: 'A kit of the lab did not answer (or is not the kit the lab file describes); check its power, cable and address.',
  },
  ABORTED: {
    exit: 130,
    title: 'Cancelled',
    hint: 'The operation was cancelled; run it again to continue. Completed content was kept.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export const ERROR_CODES = Object.keys(ERROR_TABLE) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

export interface FlightDeckErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured, secret-free details (e.g. the input that was rejected). */
  details?: Record<string, unknown>;
}

/** The one error type that crosses layer boundaries. */
export class FlightDeckError extends Error {
  override readonly name = 'FlightDeckError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: FlightDeckErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint ?? ERROR_TABLE[code].hint;
    this.details = options.details;
  }

  get exitCode(): number {
    return ERROR_TABLE[this.code].exit;
  }

  /** The wire form used by the CLI's --json output, IPC and the web host. Never carries a stack. */
  toJSON(): ErrorPayload {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  hint: string;
  details?: Record<string, unknown>;
}

/** Turn anything thrown into a FlightDeckError, keeping the original as `cause`. */
export function toFlightDeckError(err: unknown): FlightDeckError {
  if (err instanceof FlightDeckError) return err;
  if (isAbortError(err)) return new FlightDeckError('ABORTED', 'The operation was cancelled.', { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new FlightDeckError('INTERNAL', `Unexpected error: ${message}`, { cause: err });
}

export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ((err as { name?: unknown }).name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

/** Throw ABORTED if the signal fired. Call between steps of long work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FlightDeckError('ABORTED', 'The operation was cancelled.');
}
