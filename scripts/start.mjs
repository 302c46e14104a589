#!/usr/bin/env node
// `npm start`: the Electron app where an Electron binary and a display exist, otherwise the same UI
// served by `flightdeck serve` on 127.0.0.1 with the URL printed. Runs after `npm run build`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { findElectronBinary, hasDisplay } = await import(path.join(root, 'dist/native-bridge/system/electron.js'));

const passthrough = process.argv.slice(2);
const electron = findElectronBinary();
let child;
if (electron.executable && hasDisplay()) {
  console.log(`Starting the Flight Deck desktop app (${electron.executable}).`);
  child = spawn(electron.executable, [root, ...passthrough], { stdio: 'inherit' });
} else {
  const why = electron.executable ? 'no display is available' : electron.reason;
  console.log(`Electron app unavailable here: ${why}. Serving the same UI in your browser instead.`);
  child = spawn(process.execPath, [path.join(root, 'bin/flightdeck.js'), 'serve', ...passthrough], { stdio: 'inherit' });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
