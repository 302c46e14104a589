import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../core/units.js';
import { formatBytes as cliFormatBytes } from '../../../cli/output.js';
import { formatBytes as appFormatBytes } from '../../../renderer/src/lib/format.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe('formatBytes: one format for the CLI, the check findings and the app', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1100, '1.07 KiB'],
    [14643, '14.3 KiB'],
    [10 * KiB, '10 KiB'],
    [150.4 * KiB, '150 KiB'],
    [1023 * KiB, '1023 KiB'],
    // Rounding up to 1024 of a unit says one of the next.
    [MiB - 1, '1 MiB'],
    [MiB, '1 MiB'],
    [1290000, '1.23 MiB'],
    [16 * MiB, '16 MiB'],
    [16 * MiB + 65536, '16.1 MiB'],
    [256 * MiB, '256 MiB'],
    [448 * MiB, '448 MiB'],
    [2 * GiB, '2 GiB'],
    [1024 * GiB, '1 TiB'],
    [Number.MAX_SAFE_INTEGER, '8 PiB'],
    // Rates are not whole bytes; below 1 KiB they round to a byte.
    [512.4, '512 B'],
    [1536.6, '1.5 KiB'],
    [-1536, '-1.5 KiB'],
  ])('%d → %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [16 * MiB, '16 MiB'],
    [2 * GiB, '2 GiB'],
    [1100, '1.07 KiB (1100 B)'],
    [MiB - 1, '1 MiB (1048575 B)'],
    [16 * MiB + 1, '16 MiB (16777217 B)'],
    [16 * MiB + 65536, '16.1 MiB (16842752 B)'],
  ])('exact: %d → %s (the count only when the short form rounds)', (n, text) => {
    expect(formatBytes(n, { exact: true })).toBe(text);
  });

  it('does not throw on numbers that are not sizes', () => {
    expect(formatBytes(Number.NaN)).toBe('NaN B');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('Infinity B');
  });

  it('is the function the CLI and the app print with', () => {
    expect(cliFormatBytes).toBe(formatBytes);
    expect(appFormatBytes).toBe(formatBytes);
  });
});
