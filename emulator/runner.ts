/**
 * Runs one payload for the emulator in a worker thread (node:worker_threads), never a child process:
 * inside the packaged desktop app `process.execPath` is the app itself (the RunAsNode fuse is off), so
 * spawning it would start a second app instead of a runner. The worker's source is plain JavaScript
 * evaluated from a string, so it needs no file on disk (asar, the CLI bundle, sources under tsx alike).
 *
 * A module exporting `_start` runs as a WASI command (its exit code is the run's); one exporting
 * `_initialize` is initialised as a reactor; any other module is instantiated and its exports listed.
 * WASI writes to fd 1 and 2 come back as messages (stdout/stderr); other imports are stubs that trap.
 */
import { Worker } from 'node:worker_threads';

export interface PayloadRun {
  /** Resolves with the exit code: the WASI exit status, 134 for a trap, 1 when the runner failed. */
  exited: Promise<number>;
  /** Stop the payload (the device powers off). */
  kill(): void;
}

const SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { WASI } = require('node:wasi');
const send = (stream, bytes) => parentPort.postMessage({ stream, text: Buffer.from(bytes).toString('utf8') });
(async () => {
  const file = workerData.file;
  const wasi = new WASI({ version: 'preview1', args: [path.basename(file)], env: {}, returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(file));
  const base = wasi.getImportObject().wasi_snapshot_preview1;
  let memory;
  const preview1 = {
    ...base,
    fd_write(fd, iovs, count, written) {
      if (fd !== 1 && fd !== 2) return base.fd_write(fd, iovs, count, written);
      try {
        const view = new DataView(memory.buffer);
        const parts = [];
        let n = 0;
        for (let i = 0; i < count; i++) {
          const ptr = view.getUint32(iovs + i * 8, true);
          const len = view.getUint32(iovs + i * 8 + 4, true);
          parts.push(new Uint8Array(memory.buffer, ptr, len).slice());
          n += len;
        }
        send(fd === 1 ? 'stdout' : 'stderr', Buffer.concat(parts));
        view.setUint32(written, n, true);
        return 0;
      } catch {
        return 21; // EFAULT: an iovec outside the memory
      }
    },
  };
  const imports = { wasi_snapshot_preview1: preview1 };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new Error('import ' + imp.module + '.' + imp.name + ' is not provided by the emulator');
    };
  }
  let code = 0;
  try {
    const instance = await WebAssembly.instantiate(module, imports);
    memory = instance.exports.memory;
    if (typeof instance.exports._start === 'function') code = wasi.start(instance);
    else if (typeof instance.exports._initialize === 'function') wasi.initialize(instance);
    else send('stderr', 'loaded; no _start, exports: ' + (Object.keys(instance.exports).join(', ') || '(none)') + '\n');
  } catch (err) {
    send('stderr', 'trap: ' + err.message + '\n');
    code = 134;
  }
  parentPort.postMessage({ exit: code });
})().catch((err) => {
  send('stderr', 'runner: ' + err.message + '\n');
  parentPort.postMessage({ exit: 1 });
});
`;

/** Run the payload in `file`; `onOutput` gets its stdout and stderr as they are written. */
export function runPayload(file: string, onOutput: (stream: 'stdout' | 'stderr', text: string) => void): PayloadRun {
  // stdout/stderr: the worker's own streams stay out of the device's output (WASI output comes as messages).
  const worker = new Worker(SOURCE, { eval: true, workerData: { file }, stdout: true, stderr: true, execArgv: ['--no-warnings'] });
  worker.stdout.resume();
  worker.stderr.resume();
  let code: number | undefined;
  const exited = new Promise<number>((resolve) => {
    worker.on('message', (m: { stream?: 'stdout' | 'stderr'; text?: string; exit?: number }) => {
      if (m.stream && typeof m.text === 'string') onOutput(m.stream, m.text);
      if (typeof m.exit === 'number') {
        code = m.exit;
        void worker.terminate();
      }
    });
    worker.on('error', (err) => {
      onOutput('stderr', `runner: ${err.message}\n`);
      code ??= 1;
    });
    worker.on('exit', () => resolve(code ?? 137));
  });
  return { exited, kill: () => void worker.terminate() };
}
