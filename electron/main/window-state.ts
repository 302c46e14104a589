/**
 * Window position and size kept between runs (window-state.json in the config folder). Pure: the caller
 * reads and writes the file and passes the displays' work areas, so this is unit-tested without Electron.
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface WindowState extends Rect {
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1280, height: 800 } as const;
export const MIN_SIZE = { width: 960, height: 600 } as const;

/**
 * The state to open the window with: the saved one when it is well-formed and still mostly on a display,
 * otherwise the default size (centred by Electron: no x/y).
 */
export function restoreWindowState(saved: unknown, workAreas: Rect[]): Partial<WindowState> & { width: number; height: number } {
  const s = saved as Partial<WindowState> | null;
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!s || !num(s.x) || !num(s.y) || !num(s.width) || !num(s.height)) return { ...DEFAULT_SIZE };
  const width = Math.max(MIN_SIZE.width, Math.round(s.width));
  const height = Math.max(MIN_SIZE.height, Math.round(s.height));
  const rect = { x: Math.round(s.x), y: Math.round(s.y), width, height };
  // Visible when at least a 100×50 corner of the title bar area lies on some display.
  const visible = workAreas.some((a) => rect.x + 100 <= a.x + a.width && rect.x + rect.width - 100 >= a.x && rect.y >= a.y && rect.y + 50 <= a.y + a.height);
  if (!visible) return { width, height, maximized: s.maximized === true };
  return { ...rect, maximized: s.maximized === true };
}
