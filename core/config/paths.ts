import path from 'node:path';
import envPaths from 'env-paths';

/** Where Flight Deck keeps its files. */
export interface FlightDeckPaths {
  /** User configuration: config.json, user platform profiles. */
  config: string;
  /** Durable data: content store, receipts, kits. */
  data: string;
  /** Re-creatable cache: downloaded blobs in flight, token cache. */
  cache: string;
  /** Log files and saved device sessions. */
  log: string;
  /** Set when FLIGHTDECK_HOME overrides the OS conventions. */
  home: string | undefined;
}

/**
 * OS-conventional directories (XDG on Linux, ~/Library on macOS, %APPDATA% on Windows), all under one
 * folder when FLIGHTDECK_HOME is set (tests, portable installs, CI).
 */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env): FlightDeckPaths {
  const home = env.FLIGHTDECK_HOME?.trim();
  if (home) {
    const root = path.resolve(home);
    return {
      config: path.join(root, 'config'),
      data: path.join(root, 'data'),
      cache: path.join(root, 'cache'),
      log: path.join(root, 'log'),
      home: root,
    };
  }
  const p = envPaths('flightdeck', { suffix: '' });
  return { config: p.config, data: p.data, cache: p.cache, log: p.log, home: undefined };
}
