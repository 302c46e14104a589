import { Command, CommanderError } from 'commander';
import { Output, type GlobalOptions, type Streams } from './output.js';
import { FlightDeckError } from '../core/errors.js';
import { packageVersion } from '../core/config/package.js';
import { registerDoctor } from './commands/doctor.js';
import { useWarnings } from './api.js';
import { registerServe } from './commands/serve.js';
import { registerOci } from './commands/oci.js';
import { registerCredentials } from './commands/credentials.js';
import { registerInspect } from './commands/inspect.js';
import { registerCheck } from './commands/check.js';
import { registerPlatforms } from './commands/platforms.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDevice, registerMonitor } from './commands/device.js';
import { registerDevices } from './commands/devices.js';
import { registerEmulate } from './commands/emulate.js';
import { registerKit } from './commands/kit.js';
import { registerReceipts } from './commands/receipts.js';
import { registerLab } from './commands/lab.js';

const EXAMPLES = `
Examples:
  $ flightdeck doctor                      what works on this machine, and how to fix the rest
  $ flightdeck serve                       open the Flight Deck UI in a browser
  $ flightdeck pull localhost:5000/flight/shared-types/bundles/dreamcast:latest -o bundle
  $ flightdeck ls localhost:5000/flight/shared-types/wasm/complete
  $ flightdeck deploy app.wasm --device tcp://127.0.0.1:7000 --run
                                           check, upload, verify, commit and run a payload
  $ flightdeck doctor --json | jq .        every command speaks JSON for scripts and CI
  $ flightdeck check app.wasm -p dreamcast does the payload fit the kit? (exit 0 fits, 1 does not)

Global options go before or after the command. Exit codes are listed in docs/errors.md.`;

/** Build the program. Streams are injectable so tests run the real parser in-process. */
export function buildProgram(streams: Streams): { program: Command; output: () => Output } {
  let output: Output | undefined;
  const program = new Command('flightdeck');
  const out = () => (output ??= new Output(globalOptions(program), streams));
  useWarnings((message) => out().warn(message));

  program
    .description('Flight Deck: pull, check and flash WASM platform bundles to dev kits')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'machine-readable output: one JSON document on stdout, events as JSON lines on stderr')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print diagnostics (causes of errors, requests)')
    .option('--no-color', 'disable colours (NO_COLOR is honoured too)')
    .option('--no-progress', 'disable progress bars')
    .addHelpText('after', EXAMPLES)
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
      outputError: () => {
        /* printed by run() as error[USAGE] */
      },
    })
    .exitOverride();
  program.enablePositionalOptions(false);

  registerDoctor(program, out);
  registerServe(program, out);
  registerOci(program, out);
  registerCredentials(program, out);
  registerInspect(program, out);
  registerCheck(program, out);
  registerPlatforms(program, out);
  registerDeploy(program, out);
  registerDevices(program, out);
  registerDevice(program, out);
  registerMonitor(program, out);
  registerEmulate(program, out);
  registerKit(program, out);
  registerReceipts(program, out);
  registerLab(program, out);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput(program.configureOutput());
  }
  return { program, output: out };
}

function globalOptions(program: Command): GlobalOptions {
  const o = program.opts<{ json: boolean; quiet: boolean; verbose: boolean; color: boolean; progress: boolean }>();
  return { json: Boolean(o.json), quiet: Boolean(o.quiet), verbose: Boolean(o.verbose), color: o.color !== false, progress: o.progress !== false };
}

/** Run the CLI; resolves to the process exit code. */
export async function run(argv: string[], streams: Streams): Promise<number> {
  const { program, output } = buildProgram(streams);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return output().exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      const message = err.message.replace(/^error: /, '');
      return output().error(new FlightDeckError('USAGE', message.charAt(0).toUpperCase() + message.slice(1)));
    }
    return output().error(err);
  }
}
