/** Which screen is shown. Devices is listed but arrives with issue 7. */
export const ROUTES = [
  { id: 'registries', label: 'Registries & bundles' },
  { id: 'checks', label: 'Checks' },
  { id: 'devices', label: 'Devices', later: 'Deploying to kits and emulators arrives with the deploy work (issue 7).' },
  { id: 'kits', label: 'Offline kits' },
  { id: 'credentials', label: 'Credentials' },
  { id: 'doctor', label: 'Doctor' },
  { id: 'settings', label: 'Settings' },
] as const;
export type RouteId = (typeof ROUTES)[number]['id'];

export class Nav {
  current: RouteId = $state('registries');
  /** A bundle handed from the Registries screen to the Checks screen. */
  checkTarget = $state('');

  go(id: RouteId): void {
    this.current = id;
  }

  checkBundle(reference: string): void {
    this.checkTarget = reference;
    this.current = 'checks';
  }
}

export const nav = new Nav();
