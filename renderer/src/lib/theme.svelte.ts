export type ThemeMode = 'system' | 'light' | 'dark';
const KEY = 'flightdeck.theme';

/** Light, dark, or the system's choice; kept in localStorage and applied as <html data-theme>. */
export class Theme {
  mode: ThemeMode = $state('system');

  constructor(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage) {
    this.#storage = storage;
    const saved = storage?.getItem(KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.mode = saved;
  }

  #storage;

  set(mode: ThemeMode): void {
    this.mode = mode;
    this.#storage?.setItem(KEY, mode);
    this.apply();
  }

  apply(root: HTMLElement = document.documentElement): void {
    if (this.mode === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.mode;
  }
}

export const theme = new Theme();
