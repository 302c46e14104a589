import path from 'node:path';
import type { Command } from 'commander';
import type { Output } from '../output.js';
import { resolvePaths } from '../../core/config/paths.js';
import { FlightDeckError } from '../../core/errors.js';
import type { Msg } from '../../core/deploy/protocol.js';
import { CRASH_PHASES, type CrashPhase, type Faults } from '../../emulator/faults.js';
import { intOption } from './device.js';

interface EmulateFlags {
  platform: string;
  listen?: string;
  serial?: string;
  state?: string;
  lineRate?: string;
  name?: string;
  checkpoint?: string;
  faultDrop?: string;
  faultCorrupt?: string;
  faultDelay?: string;
  faultDisconnectAfter?: string;
  faultSeed?: string;
  crashAt?: string;
  badRate?: string[];
  faultHold?: boolean;
  faultHoldAfter?: string;
  faultDropReply?: string[];
}

/** `--fault-drop-reply ROLLBACK[:N]`: the request names whose first N replies (default 1) the device drops. */
function dropReplies(values: string[] | undefined, requests: typeof Msg): Record<string, number> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([A-Z_]+)(?::(\d+))?$/.exec(v.trim());
    if (!m || requests[m[1] as keyof typeof Msg] === undefined) {
      throw new FlightDeckError('USAGE', `--fault-drop-reply ${JSON.stringify(v)} is not a request name such as ROLLBACK or COMMIT:2.`);
    }
    out[m[1]!] = Number(m[2] ?? 1);
  }
  return out;
}

function rate(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new FlightDeckError('USAGE', `${name} ${JSON.stringify(value)} is not a probability per byte (0 <= p < 1).`);
  return n;
}

/**
 * `flightdeck emulate`: runs the reference emulator in this process (not through the api: it is a device,
 * not an operation) until Ctrl+C, registered under the data dir so `flightdeck devices` lists it.
 */
export function registerEmulate(program: Command, out: () => Output): void {
  program
    .command('emulate')
    .description('Run a reference dev kit: the device side of the deploy protocol with A/B slots, platform limits and WASM run')
    .requiredOption('-p, --platform <id>', 'platform to emulate (an id from `flightdeck platforms`; its profile sets the limits)')
    .option(
      '--listen <uri>',
      'serve on TCP: tcp://HOST:PORT or a bare PORT on 127.0.0.1 (port 0: any free port; default tcp://127.0.0.1:0). Only an explicit host such as tcp://0.0.0.0:7000 is reachable from other machines',
    )
    .option('--serial <path>', 'serve on a serial port or pty')
    .option('--state <dir>', 'slot directory (default: <data>/emulators/<platform>)')
    .option('--line-rate <baud>', 'serial: pace bytes at this line rate (8N1), as a real UART would')
    .option('--name <name>', 'name to list it under in `flightdeck devices`')
    .option('--checkpoint <bytes>', 'make the upload durable every this many bytes (default 16 MiB; and every 250 ms)')
    .option('--fault-drop <p>', 'test fault: drop each byte on the line with probability p')
    .option('--fault-corrupt <p>', 'test fault: flip each byte on the line with probability p')
    .option('--fault-delay <ms>', 'test fault: delay every write of the device')
    .option('--fault-disconnect-after <bytes>', 'test fault: cut the connection after this many received bytes (once)')
    .option('--fault-seed <n>', 'seed of the fault generator (replay a run)')
    .option('--crash-at <phase>', `test fault: kill the emulator at ${CRASH_PHASES.join(', ')}`)
    .option('--bad-rate <baud...>', 'test fault: serial line rates that garble every frame')
    .option('--fault-hold', 'test fault: hold the first upload after its first block until another host is refused as busy (or SIGUSR2)')
    .option('--fault-hold-after <bytes>', 'test fault: as --fault-hold, but hold once the upload has this many bytes (earlier blocks are acknowledged)')
    .option(
      '--fault-drop-reply <request...>',
      'test fault: carry out the first n (default 1) requests of this type, given as TYPE or TYPE:n (e.g. ROLLBACK), but drop the reply',
    )
    .addHelpText(
      'after',
      `
Without --listen or --serial it listens on tcp://127.0.0.1 (loopback, any free port): only this machine can
deploy to it. Binding another address (e.g. --listen tcp://0.0.0.0:7000) lets anyone who reaches it deploy.
Prints its address (under --json one line: {"uri", "platform", "name", "serial", "stateDir", "pid"}) and runs until Ctrl+C.

Examples:
  $ flightdeck emulate --platform dreamcast --listen tcp://127.0.0.1:7000
  $ socat pty,raw,echo=0,link=/tmp/kit pty,raw,echo=0,link=/tmp/host &
  $ flightdeck emulate --platform vita --serial /tmp/kit --line-rate 921600`,
    )
    .action(async (f: EmulateFlags) => {
      const o = out();
      if (f.crashAt !== undefined && !(CRASH_PHASES as readonly string[]).includes(f.crashAt)) {
        throw new FlightDeckError('USAGE', `--crash-at ${JSON.stringify(f.crashAt)} is not one of ${CRASH_PHASES.join(', ')}.`);
      }
      const faults: Faults = {};
      const drop = rate('--fault-drop', f.faultDrop);
      const corrupt = rate('--fault-corrupt', f.faultCorrupt);
      const delayMs = intOption('--fault-delay', f.faultDelay);
      const disconnectAfter = intOption('--fault-disconnect-after', f.faultDisconnectAfter);
      const seed = intOption('--fault-seed', f.faultSeed);
      Object.assign(faults, drop ? { drop } : {}, corrupt ? { corrupt } : {}, delayMs ? { delayMs } : {});
      Object.assign(faults, disconnectAfter ? { disconnectAfter } : {}, seed ? { seed } : {}, f.crashAt ? { crashAt: f.crashAt as CrashPhase } : {});
      const paths = resolvePaths();
      const stateDir = path.resolve(f.state ?? path.join(paths.data, 'emulators', f.platform));
      const lineRate = intOption('--line-rate', f.lineRate);
      const checkpointBytes = intOption('--checkpoint', f.checkpoint);
      const badRates = (f.badRate ?? []).map((b) => intOption('--bad-rate', b)!);
      const holdAfter = intOption('--fault-hold-after', f.faultHoldAfter);
      const hold = Boolean(f.faultHold || holdAfter);
      // The emulator and the device protocol load here, not at start-up: only this command runs them.
      const [{ startEmulator }, { Msg }, { registerEmulator }] = await Promise.all([
        import('../../emulator/emulator.js'),
        import('../../core/deploy/protocol.js'),
        import('../../core/deploy/devices.js'),
      ]);
      const drops = dropReplies(f.faultDropReply, Msg);
      const emulator = await startEmulator({
        platform: f.platform,
        paths,
        stateDir,
        ...(f.listen ? { listen: f.listen } : {}),
        ...(f.serial ? { serial: f.serial } : {}),
        ...(lineRate ? { lineRate } : {}),
        ...(checkpointBytes ? { checkpointBytes } : {}),
        ...(badRates.length ? { badRates } : {}),
        ...(hold ? { holdUpload: true } : {}),
        ...(holdAfter ? { holdAfter } : {}),
        ...(drops ? { dropReplies: drops } : {}),
        faults,
        log: (m) => o.debug(`emulator: ${m}`),
      });
      if (emulator.exposed) o.warn(`The emulator listens on ${emulator.uri}, which other machines may reach: anyone who can connect can deploy to it.`);
      const releaseHold = () => emulator.releaseHold();
      if (hold) process.on('SIGUSR2', releaseHold);
      const name = f.name ?? `emulator-${f.platform}-${process.pid}`;
      const unregister = registerEmulator(paths, { pid: process.pid, uri: emulator.uri, platform: emulator.platform, name, stateDir });
      o.announce(
        { uri: emulator.uri, platform: emulator.platform, name, serial: emulator.serial, stateDir, pid: process.pid },
        (v) => `Emulating ${v.platform} on ${v.uri} (serial ${v.serial}, state ${v.stateDir}). Press Ctrl+C to stop.`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          unregister();
          void emulator.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
