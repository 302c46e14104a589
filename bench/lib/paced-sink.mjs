#!/usr/bin/env node
// Helper of bench/deploy.mjs (bench/lib/ is not run by scripts/bench.mjs): the peer for the
// raw line rate. Reads a serial port (a pty) through the emulator's own pacing at BAUD and prints one JSON
// line when BYTES arrived: {"bytes", "ms"} from the first byte to the last.
//   node bench/lib/paced-sink.mjs PATH BAUD BYTES
import { openSerial } from '../../dist/native-bridge/serial/index.js';
import { paced } from '../../dist/emulator/pacing.js';

const [path, baud, bytes] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const port = paced(await openSerial(path, baud), baud);
let got = 0;
let first = 0;
port.onData((chunk) => {
  if (got === 0) first = performance.now();
  got += chunk.length;
  if (got >= bytes) {
    process.stdout.write(JSON.stringify({ bytes: got, ms: performance.now() - first }) + '\n');
    void port.close().then(() => process.exit(0));
  }
});
process.stdout.write('ready\n');
