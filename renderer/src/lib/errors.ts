import { ApiError } from '../../../core/api/client.js';

export interface ShownError {
  code: string;
  /** One line: what happened. */
  message: string;
  hint: string;
  /** The full message when it was long or carried a low-level cause (D-Bus, errno, a stack of causes): behind "Details". */
  details?: string;
}

/**
 * Hints in GUI words for the codes whose default hints name CLI commands or flags: the CLI keeps its
 * wording (core/errors.ts), the window says what to click.
 */
const GUI_HINTS: Record<string, string> = {
  INTERNAL: 'This is a bug in Flight Deck. Reload the window; if it happens again, report it with the Doctor screen’s report.',
  USAGE: 'Check the values in the form.',
  CONFIG_INVALID: 'Fix or remove the file named in the message; the Doctor screen shows which files are read.',
  PORT_IN_USE: 'Another program listens on that port.',
  REGISTRY_UNREACHABLE: 'Check the host name, port and network; a registry without TLS needs plain HTTP.',
  REGISTRY_UNAUTHORIZED: 'Sign in to this registry under Credentials.',
  DISK_FULL: 'Free space on the disk holding the Flight Deck data folder (the Local cache under Registries & bundles shows what it holds), then try again.',
  BLOB_CORRUPT:
    'The copy in the content store was damaged on disk and was set aside: pull it again. For an oci: folder, the folder itself is damaged: copy it again.',
  KIT_OUTPUT_EXISTS:
    'A kit is already there: press “Replace” to build the new one beside it and swap them once it is verified (the old kit stays if the build fails), or choose another Output.',
  KIT_OUTPUT_BUSY: 'Another Flight Deck window or process is building a kit at this Output: wait for it to finish, or choose another Output.',
  KIT_INVALID: 'The kit is damaged or was altered; nothing was imported. Build it again under Offline kits and compare kit hashes.',
  SIGNATURE_REQUIRED: 'The signature policy requires this repository to be signed and no signature was found: sign it, or fix the policy file.',
  OFFLINE_MISS: 'Only the local content store was used: import an offline kit that holds this reference (Offline kits → Import).',
  PLATFORM_UNKNOWN: 'Pick one of the platforms listed.',
  DEVICE_NOT_FOUND: 'The Devices screen lists the attached kits and running emulators.',
  PAYLOAD_CHECK_FAILED: 'Nothing was sent. Fix the findings listed, pick a bundle built for this platform, or press “Deploy anyway” to let the device decide.',
  DEVICE_PLATFORM_MISMATCH: 'Nothing was sent. Pick the payload or bundle built for the platform the device reports (shown above its slots).',
  DEVICE_TIMEOUT: 'Check the cable, port and line rate (the device’s Slots panel shows what it reports); deploy again to resume.',
  ELECTRON_UNAVAILABLE: 'The desktop window needs the Electron binary; this browser window is the same app.',
};

/** A CLI command or flag in a sentence: `flightdeck …`, --force, -p. */
const CLI_WORDS = /`flightdeck[^`]*`|\bflightdeck [a-z]|(^|[\s(`])--?[a-z][a-z-]*/;

/**
 * CLI words in a hint, except `flightdeck serve`: the browser window is opened from what that command
 * prints, so a hint about it (a page opened without its session token) is the GUI user's own next step.
 */
function hasCliWords(text: string): boolean {
  return CLI_WORDS.test(text.replaceAll('`flightdeck serve`', ''));
}

/** Flags with a GUI counterpart, as a sentence of a hint says them. */
const FLAG_WORDS: Record<string, string> = { '--output': 'Output', '--force': '“Deploy anyway”', '--offline': 'offline', '--plain-http': 'plain HTTP' };

/** The hint in GUI words: the code's own GUI hint when the server's names CLI commands, else its sentences in GUI words, or without the CLI ones. */
export function guiHint(code: string, hint: string): string {
  if (!hasCliWords(hint)) return hint;
  const own = GUI_HINTS[code];
  if (own) return own;
  const worded = hint.replace(/--[a-z][a-z-]*/g, (flag) => FLAG_WORDS[flag] ?? flag);
  const kept = worded.split(/(?<=[.;])\s+/).filter((s) => !hasCliWords(s));
  return kept.join(' ') || 'The Doctor screen shows what works on this machine.';
}

/** A low-level cause in a message: D-Bus, errno codes, a JS error or stack line. */
const LOW_LEVEL = /D-?Bus|org\.freedesktop|\bE[A-Z]{3,}\b|\bat [\w.<>]+ \(|\w*Error: /;
const MAX_LINE = 200;

/**
 * One line for a message that carries a low-level cause or several lines: the sentence before the cause
 * ("The OS keychain is not available (keytar: …D-Bus…)" → "The OS keychain is not available."); the full
 * text goes behind "Details". Other messages stay whole.
 */
export function oneLine(code: string, message: string): { message: string; details?: string } {
  // A refused payload lists one finding per line: that list is the message.
  if (code === 'PAYLOAD_CHECK_FAILED') return { message };
  if (!message.includes('\n') && !LOW_LEVEL.test(message)) return { message };
  const first = message.split('\n')[0]!;
  const cuts = [' (', ': ', '. '].map((sep) => first.indexOf(sep, 20)).filter((i) => i > 0);
  let line = cuts.length ? first.slice(0, Math.min(...cuts)) : first;
  if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE - 1)}…`;
  if (!/[.!?…]$/.test(line)) line += '.';
  return { message: line, details: message };
}

function shown(code: string, message: string, hint: string): ShownError {
  return { code, ...oneLine(code, message), hint: guiHint(code, hint) };
}

/** Every error the UI shows carries its stable code and hint, in GUI words. */
export function toShownError(err: unknown): ShownError {
  if (err instanceof ApiError) return shown(err.code, err.message, err.hint);
  return shown('INTERNAL', err instanceof Error ? err.message : String(err), 'Reload the window; if it persists, report it with the Doctor screen’s report.');
}

/** A problem of a kit verification, shown like an error: the server gives its code, message and hint. */
export function kitProblemError(problem: { code: string; message: string; hint: string }): ShownError {
  return shown(problem.code, problem.message, problem.hint);
}

/** Where a credential comes from, in GUI words (the CLI's "flag" is a typed-in credential of one command). */
export const CREDENTIAL_SOURCE: Record<string, string> = {
  flag: 'typed for this command',
  env: 'environment variable',
  keychain: 'OS keychain',
  'docker-config': 'Docker config',
  'credential-helper': 'Docker credential helper',
  anonymous: 'anonymous',
};
