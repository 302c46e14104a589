/**
 * The one place that scrubs secrets from anything that leaves the process: logs, error messages, JSON
 * output, IPC payloads, crash reports. Known secrets (tokens and passwords Flight Deck handled in this
 * process) are registered and replaced wherever they appear; well-known secret shapes are masked even
 * when they were never registered.
 */

const MASK = '***';
/** Secrets at least this long are scrubbed wherever they appear, inside words too. */
const SUBSTRING_MIN = 4;
const known = new Set<string>();
/**
 * Shorter secrets (1 to 3 characters) are scrubbed too, but only as a whole token: not inside a longer run
 * of letters and digits, so a 2-character password does not turn every word holding those two letters
 * into `***`. Where such a secret stands on its own (`user:ab@`, `password ab`, a quoted value) it is masked.
 */
const short = new Map<string, RegExp>();

/** Remember a secret so it is scrubbed from every later output, whatever its length. */
export function registerSecret(secret: string | undefined | null): void {
  if (!secret) return;
  if (secret.length >= SUBSTRING_MIN) known.add(secret);
  else if (!short.has(secret)) {
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    short.set(secret, new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, 'g'));
  }
}

/** For tests only. */
export function clearRegisteredSecrets(): void {
  known.clear();
  short.clear();
}

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xxx / Basic xxx (headers, curl-style dumps, JSON)
  [/\b(authorization["']?\s*[:=]\s*["']?)(bearer|basic|token)\s+[^\s"',}]+/gi, `$1$2 ${MASK}`],
  [/\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1 ${MASK}`],
  // user:password@host in URLs
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, `$1${MASK}@`],
  // "password": "...", "token": "...", identitytoken, secret, auth (docker config style)
  [/(["']?(?:password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|auth)["']?\s*[:=]\s*)(["'])(?:(?!\2).)+\2/gi, `$1$2${MASK}$2`],
];

/** Every PATTERNS match contains one of these words; a string without any skips the patterns. */
const MAYBE_SECRET = /bearer|basic|token|auth|password|passwd|secret|:\/\//i;

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [secret, re] of short) {
    if (out.includes(secret)) out = out.replace(re, MASK);
  }
  if (!MAYBE_SECRET.test(out)) return out;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/**
 * Deep-redact a JSON-like value (strings anywhere, and values under secret-looking keys). Parts with
 * nothing to scrub are returned as they are (a large report is not copied to be found clean).
 */
export function redactValue<T>(value: T): T {
  return walk(value, 0) as T;
}

const SECRET_KEY = /^(password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|authorization|auth)$/i;

function walk(value: unknown, depth: number): unknown {
  if (depth > 32) return value;
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const w = walk(v, depth + 1);
      if (w !== v) (out ??= value.slice())[i] = w;
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = SECRET_KEY.test(k) && typeof v === 'string' && v.length > 0 ? MASK : walk(v, depth + 1);
      if (w !== v) (out ??= { ...value })[k] = w;
    }
    return out ?? value;
  }
  return value;
}
