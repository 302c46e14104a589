/**
 * The native menu, as a template (no electron import here, so it is unit-tested): standard roles for
 * editing and windows, plus Flight Deck's own items wired to actions main passes in.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  revealData(): void;
  openDocs(): void;
}

export const DOCS_URL = 'https://github.com/flightdeck-dev/flightdeck/blob/main/docs/desktop.md';

export function menuTemplate(platform: NodeJS.Platform, actions: MenuActions, appName = 'Flight Deck'): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac
      ? [
          {
            label: appName,
            submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { type: 'separator' }, { role: 'quit' }],
          } as MenuItemConstructorOptions,
        ]
      : []),
    {
      label: '&File',
      submenu: [
        { label: 'Reveal Data Folder', accelerator: 'CmdOrCtrl+Shift+R', click: () => actions.revealData() },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    { label: '&View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { label: '&Window', submenu: [{ role: 'minimize' }, ...(mac ? [{ role: 'zoom' } as const] : [])] },
    { label: '&Help', submenu: [{ label: 'Flight Deck Documentation', click: () => actions.openDocs() }] },
  ];
}
