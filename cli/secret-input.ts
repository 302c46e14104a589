import { FlightDeckError } from '../core/errors.js';
import { registerSecret } from '../core/credentials/redact.js';

const MAX_SECRET = 16 * 1024;

/**
 * Read a secret: all of stdin (`--password-stdin`), or a prompt without echo on a terminal. The secret
 * is registered for redaction before anything else can print it.
 */
export async function readSecret(opts: {
  fromStdin: boolean;
  prompt: string;
  what: string;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
}): Promise<string> {
  const stdin = opts.stdin ?? process.stdin;
  const stderr = opts.stderr ?? process.stderr;
  let secret: string;
  if (opts.fromStdin) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_SECRET) throw new FlightDeckError('INVALID_INPUT', `The ${opts.what} on stdin is longer than ${MAX_SECRET} bytes.`);
      chunks.push(chunk as Buffer);
    }
    secret = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  } else if (stdin.isTTY) {
    secret = await promptHidden(opts.prompt, stdin, stderr);
  } else {
    throw new FlightDeckError('USAGE', `No ${opts.what} given and stdin is not a terminal.`, {
      hint: `Pipe it in with --${opts.what === 'password' ? 'password' : 'token'}-stdin.`,
    });
  }
  if (!secret) throw new FlightDeckError('INVALID_INPUT', `The ${opts.what} is empty.`);
  registerSecret(secret);
  return secret;
}

function promptHidden(prompt: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new FlightDeckError('ABORTED', 'Login cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (value.length < MAX_SECRET) value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
