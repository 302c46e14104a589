import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from './cli.js';

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  /** Everything the process printed so far (stdout + stderr), to check that no secret leaks there. */
  output(): string;
  /** Whether the process has ended (crashed, or stopped). */
  exited(): boolean;
  stop(): Promise<void>;
}

/** The real `flightdeck serve` (built dist/), as a user starts it, with extra env (FLIGHTDECK_HOME, keyring). */
export async function startServe(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const printed = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        resolve(JSON.parse(out) as { url: string; origin: string });
      } catch {
        // incomplete
      }
    });
    child.once('exit', (code) => reject(new Error(`flightdeck serve exited with ${code}: ${err}`)));
  });
  return {
    ...printed,
    token: new URL(printed.url).hash.replace('#token=', ''),
    output: () => out + err,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
