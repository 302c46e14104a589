/**
 * docs/errors.md is generated from core/errors.ts so the table the CLI uses and the table users read are
 * the same. `npm run docs:errors` rewrites it; test/unit/core/errors.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TABLE, type ErrorCode } from '../core/errors.js';

export const ERRORS_DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/errors.md');

const FAMILIES: Array<[number, string]> = [
  [0, 'success'],
  [1, 'internal error (a bug: please report it)'],
  [2, 'usage: unknown command or option, missing argument'],
  [3, 'bad input or data: a reference, file, manifest or module that is invalid or missing'],
  [4, 'registry or network: the registry could not be reached or answered with an error'],
  [5, 'authentication: credentials missing or refused'],
  [6, 'integrity: content did not match its digest or size (nothing was stored)'],
  [7, 'check failed: the payload does not fit the target platform'],
  [8, 'device: the kit is absent, disconnected or spoke outside the protocol'],
  [9, 'capability missing on this machine (keychain, serial, USB, Electron, a system tool)'],
  [130, 'cancelled (Ctrl+C or the Cancel button)'],
];

export function renderErrorsDoc(): string {
  const lines = [
    '# Errors and exit codes',
    '',
    '<!-- Generated from core/errors.ts by `npm run docs:errors`. Do not edit by hand. -->',
    '',
    'Every error Flight Deck reports has a stable **code**, a message naming the input at fault, and a',
    'hint. The CLI prints `error[CODE]: message` and the hint, and exits with the code’s exit status; with',
    '`--json` it prints `{ "error": { "code", "message", "hint" } }` on stdout instead. The desktop app',
    'shows the same code and hint. Codes never change meaning; new ones may be added.',
    '',
    '## Exit status families',
    '',
    '| exit | meaning |',
    '| ---: | --- |',
    ...FAMILIES.map(([code, meaning]) => `| ${code} | ${meaning} |`),
    '',
    '## Codes',
    '',
    '| code | exit | title | hint |',
    '| --- | ---: | --- | --- |',
    ...(Object.keys(ERROR_TABLE) as ErrorCode[]).map((code) => {
      const e = ERROR_TABLE[code];
      return `| \`${code}\` | ${e.exit} | ${e.title} | ${e.hint.replace(/\|/g, '\\|')} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

export const EXIT_FAMILIES = FAMILIES.map(([code]) => code);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  console.log(`wrote ${ERRORS_DOC}`);
}
