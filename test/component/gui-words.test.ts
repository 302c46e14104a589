import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { ERROR_TABLE } from '../../core/errors.js';
import { ApiError } from '../../core/api/client.js';
import { guiHint, oneLine, toShownError } from '../../renderer/src/lib/errors.js';
import ErrorBox from '../../renderer/src/lib/ErrorBox.svelte';

const CLI = /`flightdeck (?!serve`)|\bflightdeck (?!serve`)[a-z]|(^|[\s(`])--?[a-z]/;

describe('GUI words for GUI users', () => {
  it('no default hint of any error code shows a CLI command or flag in the window', () => {
    const leaks = Object.entries(ERROR_TABLE)
      .map(([code, e]) => [code, guiHint(code, e.hint)] as const)
      .filter(([, hint]) => CLI.test(hint) || hint.trim() === '');
    expect(leaks).toEqual([]);
  });

  it('a flag becomes the button or field that does it; hints without CLI words are left as they are', () => {
    expect(guiHint('PAYLOAD_CHECK_FAILED', ERROR_TABLE.PAYLOAD_CHECK_FAILED.hint)).toContain('“Deploy anyway”');
    expect(guiHint('INVALID_INPUT', 'Choose another --output, or remove the old kit first.')).toBe('Choose another Output, or remove the old kit first.');
    expect(guiHint('REGISTRY_UNAUTHORIZED', ERROR_TABLE.REGISTRY_UNAUTHORIZED.hint)).toBe('Sign in to this registry under Credentials.');
    expect(guiHint('NOT_FOUND', 'No such file on this machine: check the path.')).toBe('No such file on this machine: check the path.');
    // How the browser window itself is opened stays: it is the browser user's own next step.
    const token = 'Open the URL printed by `flightdeck serve` (it carries the session token).';
    expect(guiHint('INVALID_INPUT', token)).toBe(token);
  });

  it('a D-Bus cause collapses to one line, the whole text behind Details', () => {
    const message =
      'The OS keychain is not available (keytar: Cannot autolaunch D-Bus without X11 $DISPLAY; @napi-rs/keyring: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files).';
    expect(oneLine('KEYCHAIN_UNAVAILABLE', message)).toEqual({ message: 'The OS keychain is not available.', details: message });
    // A refused payload's findings, one per line, are the message itself.
    const findings = 'x.wasm does not fit dreamcast; nothing was sent:\n  - [threads.unsupported] payload uses threads';
    expect(oneLine('PAYLOAD_CHECK_FAILED', findings)).toEqual({ message: findings });
    expect(oneLine('NOT_FOUND', 'flight/nope is not a repository in /kit.')).toEqual({ message: 'flight/nope is not a repository in /kit.' });

    render(ErrorBox, { error: toShownError(new ApiError({ code: 'KEYCHAIN_UNAVAILABLE', message, hint: ERROR_TABLE.KEYCHAIN_UNAVAILABLE.hint })) });
    const alert = screen.getByRole('alert');
    expect(alert.querySelector('p')?.textContent).toBe('KEYCHAIN_UNAVAILABLE The OS keychain is not available.');
    expect(alert.querySelector('details summary')?.textContent).toBe('Details');
    expect(alert.querySelector('details pre')?.textContent).toBe(message);
  });
});
