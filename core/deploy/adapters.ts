/**
 * USB ids of adapters and kits people flash through, so `flightdeck devices` can point at them.
 * Data, not logic: add a row when a lab uses another adapter.
 */
export interface KnownAdapter {
  vendorId: string;
  productId: string;
  name: string;
}

export const KNOWN_ADAPTERS: readonly KnownAdapter[] = [
  { vendorId: '0403', productId: '6001', name: 'FTDI FT232R USB-serial (Dreamcast coders cable)' },
  { vendorId: '0403', productId: '6010', name: 'FTDI FT2232 dual USB-serial' },
  { vendorId: '0403', productId: '6014', name: 'FTDI FT232H USB-serial (high speed)' },
  { vendorId: '0403', productId: '6015', name: 'FTDI FT231X USB-serial' },
  { vendorId: '10c4', productId: 'ea60', name: 'Silicon Labs CP210x USB-serial' },
  { vendorId: '1a86', productId: '7523', name: 'WCH CH340 USB-serial' },
  { vendorId: '067b', productId: '2303', name: 'Prolific PL2303 USB-serial' },
  { vendorId: '054c', productId: '04e4', name: 'PlayStation Vita (USB)' },
];

export function knownAdapter(vendorId: string | undefined, productId: string | undefined): string | undefined {
  if (!vendorId || !productId) return undefined;
  const v = vendorId.toLowerCase();
  const p = productId.toLowerCase();
  return KNOWN_ADAPTERS.find((a) => a.vendorId === v && a.productId === p)?.name;
}

/**
 * udev rules for the known adapters (assets/linux/70-flightdeck.rules, shipped in the .deb to
 * /usr/lib/udev/rules.d): `uaccess` gives the user at the seat access to the serial and USB device nodes
 * without sudo or a dialout group. Numbered below 73 so systemd's uaccess rule applies them. udevd
 * reloads rule files by itself; a kit plugged in after the install gets the rule.
 */
export function udevRules(): string {
  const lines = [
    '# Flight Deck: dev-kit adapters the logged-in user may open without sudo (generated from',
    '# core/deploy/adapters.ts by `npm run assets:udev`; installed by the .deb to /usr/lib/udev/rules.d).',
  ];
  for (const a of KNOWN_ADAPTERS) {
    lines.push(`# ${a.name}`);
    lines.push(`SUBSYSTEM=="usb", ATTR{idVendor}=="${a.vendorId}", ATTR{idProduct}=="${a.productId}", TAG+="uaccess"`);
    lines.push(`SUBSYSTEM=="tty", ATTRS{idVendor}=="${a.vendorId}", ATTRS{idProduct}=="${a.productId}", TAG+="uaccess"`);
  }
  return lines.join('\n') + '\n';
}
