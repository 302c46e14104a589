import { FlightDeckError } from '../../core/errors.js';
import { loadOptional } from '../lazy.js';

/** The part of the `usb` package's API Flight Deck relies on (usb@2 and usb@3 both offer it). */
export interface UsbModule {
  getDeviceList(): Array<{ deviceDescriptor: { idVendor: number; idProduct: number }; busNumber: number; deviceAddress: number }>;
}

export interface UsbDeviceInfo {
  vendorId: string;
  productId: string;
  bus: number;
  address: number;
}

export function loadUsb(): UsbModule {
  const mod = loadOptional<UsbModule & { usb?: UsbModule }>('usb');
  if (!mod.ok) {
    throw new FlightDeckError('USB_UNAVAILABLE', `The usb module did not load: ${mod.error.message.split('\n')[0]}`, {
      cause: mod.error,
    });
  }
  const m = mod.module;
  if (typeof m.getDeviceList === 'function') return m;
  if (m.usb && typeof m.usb.getDeviceList === 'function') return m.usb;
  throw new FlightDeckError('USB_UNAVAILABLE', 'The installed usb module has no getDeviceList().');
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** Attached USB devices. usb@3 throws when /sys/bus/usb is missing; usb@2 returns []. Both end here. */
export function listUsbDevices(usb: UsbModule = loadUsb()): UsbDeviceInfo[] {
  try {
    return usb.getDeviceList().map((d) => ({
      vendorId: hex4(d.deviceDescriptor.idVendor),
      productId: hex4(d.deviceDescriptor.idProduct),
      bus: d.busNumber,
      address: d.deviceAddress,
    }));
  } catch (err) {
    throw new FlightDeckError('USB_UNAVAILABLE', `Cannot enumerate USB devices: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
