/** Byte sizes: the one format of the CLI, the check findings and the app (core/units.ts). */
export { formatBytes } from '../../../core/units.js';

export const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** Offer a text file for download (browser) or saving (Electron's download handler). */
export function download(filename: string, mediaType: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mediaType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
