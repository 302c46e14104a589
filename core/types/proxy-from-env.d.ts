// proxy-from-env ships no type declarations.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from *_PROXY / NO_PROXY (either case), or '' for a direct connection. */
  export function getProxyForUrl(url: string | URL): string;
}
