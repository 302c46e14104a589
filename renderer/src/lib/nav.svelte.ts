/** Which screen is shown. */
export const ROUTES = [
  { id: 'start', label: 'Start' },
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
  current: RouteId = $state('start');
  /** A bundle handed from another screen to the Checks screen, and the platform it is annotated for (pre-ticked). */
  checkTarget = $state('');
  checkPlatform = $state('');
  /** A bundle handed to the Devices screen's deploy form ("Deploy to…"). */
  deployTarget = $state('');

  go(id: RouteId): void {
    this.current = id;
  }

  checkBundle(reference: string, platform?: string): void {
    this.checkTarget = reference;
    this.checkPlatform = platform ?? '';
    this.current = 'checks';
  }

  deployBundle(reference: string): void {
    this.deployTarget = reference;
    this.current = 'devices';
  }
}

export const nav = new Nav();
