import { ERROR_TABLE } from '../core/errors.js';
import { packageVersion } from '../core/config/package.js';
import { loadMain } from './load-main.js';

// A reader that stops early (`flightdeck --help | head -1`) closes our stdout: stop quietly, as other
// command-line tools do, instead of dying on an unhandled EPIPE. Any other output failure (a redirect to
// a full disk) is reported on stderr with the IO_ERROR exit code.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`error[IO_ERROR]: Cannot write the output: ${err.message}\n`);
  process.exit(ERROR_TABLE.IO_ERROR.exit);
});
process.stderr.on('error', () => process.exit(process.exitCode ?? 0));

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // The same line commander prints, without loading the commands: the build keeps them in a bundle of
  // their own (scripts/build.mjs), so `flightdeck --version` costs little more than Node's own start-up.
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { run } = await loadMain();
  process.exitCode = await run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
