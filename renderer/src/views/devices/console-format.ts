/** 14:03:07.250, local time: the console's timestamps. */
export function clock(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Console lines as a text file: one `ISO-time stream text` a line. */
export function consoleText(lines: ReadonlyArray<{ at: number; stream: string; text: string }>): string {
  return lines.map((l) => `${new Date(l.at).toISOString()} ${l.stream} ${l.text}\n`).join('');
}
