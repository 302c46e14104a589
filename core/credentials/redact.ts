/**
 * The one place that scrubs secrets from anything that leaves the process: logs, error messages, JSON
 * output, IPC payloads, crash reports. Known secrets (tokens and passwords Flight Deck handled in this
 * process) are registered and replaced wherever they appear; well-known secret shapes are masked even
 * when they were never registered.
 */

const MASK = '***';
const known = new Set<string>();

/** Remember a secret so it is scrubbed from every later output. Ignores very short values. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) known.add(secret);
}

/** For tests only. */
export function clearRegisteredSecrets(): void {
  known.clear();
}

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xxx / Basic xxx (headers, curl-style dumps, JSON)
  [/\b(authorization["']?\s*[:=]\s*["']?)(bearer|basic|token)\s+[^\s"',}]+/gi, `$1$2 ${MASK}`],
  [/\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1 ${MASK}`],
  // user:password@host in URLs
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, `$1${MASK}@`],
  // "password": "...", "token": "...", identitytoken, secret, auth (docker config style)
  [
    /(["']?(?:password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|auth)["']?\s*[:=]\s*)(["'])(?:(?!\2).)+\2/gi,
    `$1$2${MASK}$2`,
  ],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Deep-redact a JSON-like value (strings anywhere, and values under secret-looking keys). */
export function redactValue<T>(value: T): T {
  return walk(value, 0) as T;
}

const SECRET_KEY = /^(password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|authorization|auth)$/i;

function walk(value: unknown, depth: number): unknown {
  if (depth > 32) return value;
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && typeof v === 'string' && v.length > 0 ? MASK : walk(v, depth + 1);
    }
    return out;
  }
  return value;
}
