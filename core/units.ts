/**
 * Byte sizes for people: the one format of the CLI, the check findings and the app. Binary units, as
 * platform budgets are given; at most three significant digits, trailing zeros dropped:
 *   512 → "512 B", 1536 → "1.5 KiB", 14643 → "14.3 KiB", 16 MiB → "16 MiB", 1290000 → "1.23 MiB".
 * Browser-safe (no Node built-ins): the renderer imports this module (an allowed core import in
 * eslint.config.js).
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export interface FormatBytesOptions {
  /**
   * Append the exact byte count when the short form is rounded: "1.23 MiB (1290000 B)". Check findings
   * use it because budgets are compared to the byte: "needs 16 MiB, over the 16 MiB budget" would not say
   * why. A size the short form states exactly ("16 MiB", "1.5 KiB") gets no parentheses.
   */
  exact?: boolean;
}

export function formatBytes(n: number, opts: FormatBytesOptions = {}): string {
  if (!Number.isFinite(n)) return `${n} B`;
  if (n < 0) return `-${formatBytes(-n, opts)}`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  let shown = i === 0 ? Math.round(v) : round3(v);
  if (shown >= 1024 && i < UNITS.length - 1) {
    // 1023.9 KiB rounds to 1024 KiB: say 1 MiB.
    i++;
    shown = round3(shown / 1024);
  }
  const text = `${shown} ${UNITS[i]}`;
  return opts.exact && shown * 1024 ** i !== n ? `${text} (${n} B)` : text;
}

/** Three significant digits (two decimals below 10, one below 100, none above), as a number: no trailing zeros. */
function round3(v: number): number {
  return Number(v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0));
}
