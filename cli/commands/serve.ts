import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Output } from '../output.js';
import { appHandlers, callApi } from '../api.js';
import { packageRoot } from '../../core/config/package.js';
import { FlightDeckError } from '../../core/errors.js';

export function rendererDir(): string {
  return path.join(packageRoot(), 'dist', 'renderer');
}

export function registerServe(program: Command, out: () => Output): void {
  program
    .command('serve')
    .description('Serve the Flight Deck UI on 127.0.0.1 for a browser (the same app as the desktop window)')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', '0')
    .option('--host <host>', 'loopback address to bind (127.0.0.1 or ::1)', '127.0.0.1')
    .addHelpText(
      'after',
      `
The printed URL carries a session token; only a page opened from it can use the api.

Examples:
  $ flightdeck serve
  $ flightdeck serve --port 7410 --json`,
    )
    .action(async (opts: { port: string; host: string }) => {
      const o = out();
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new FlightDeckError('USAGE', `--port ${JSON.stringify(opts.port)} is not a port number (0-65535).`);
      }
      const dir = rendererDir();
      if (!existsSync(path.join(dir, 'index.html'))) {
        throw new FlightDeckError('NOT_FOUND', `The UI is not built (${dir} has no index.html).`, { hint: 'Run `npm run build` first.' });
      }
      // Loaded here, not at start-up: the web host serves every method, so it brings the whole contract.
      const { startWebHost } = await import('../serve/web-host.js');
      const host = await startWebHost({ handlers: await appHandlers(), rootDir: dir, host: opts.host, port });
      o.result({ url: host.url, origin: host.origin }, (v) => `Flight Deck is running at ${v.url}\nPress Ctrl+C to stop.`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          // A local emulator started from the UI listens in this process: stop it as well (its slots
          // checkpointed, its payloads killed, its registration removed), or its server keeps the
          // process alive after the web host closed and SIGTERM never ends `serve`.
          void host
            .close()
            .then(() => callApi('emulators.stop', {}))
            .then(
              () => resolve(),
              (err: unknown) => {
                o.warn(`stopping the local emulator: ${(err as Error).message}`);
                resolve();
              },
            );
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
