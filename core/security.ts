/**
 * The Content Security Policy of every page Flight Deck serves (Electron's app:// protocol and the
 * `flightdeck serve` web host): nothing but our own files, no inline script, no remote content.
 * renderer/index.html repeats it in a <meta> tag (without frame-ancestors, which a meta tag cannot set);
 * a unit test keeps the copies equal.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
