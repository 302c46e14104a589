/** Which screen is shown. */
export const ROUTES = [
  { id: 'registries', label: 'Registries & bundles' },
  { id: 'checks', label: 'Checks' },
  { id: 'devices', label: 'Devices' },
  { id: 'receipts', label: 'Receipts' },
  { id: 'kits', label: 'Offline kits' },
  { id: 'lab', label: 'Lab' },
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
