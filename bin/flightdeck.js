#!/usr/bin/env node
// Entry point of the `flightdeck` command. The CLI is compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('error[INTERNAL]: Flight Deck is not built (dist/cli/bin.js is missing).\n  hint: Run `npm run build` in the flightdeck folder.\n');
  process.exit(1);
}
await import(entry.href);
