#!/usr/bin/env node
// Entry point of the `flightdeck` command. `npm run build` compiles the CLI to dist/ and bundles it into
// dist/cli/flightdeck.mjs (one file loads faster than the module tree).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/flightdeck.mjs', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'error[INTERNAL]: Flight Deck is not built (dist/cli/flightdeck.mjs is missing).\n  hint: Run `npm run build` in the flightdeck folder.\n',
  );
  process.exit(1);
}
await import(entry.href);
