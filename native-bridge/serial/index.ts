import { FlightDeckError } from '../../core/errors.js';
import { loadOptional } from '../lazy.js';
import type * as SerialPortNs from 'serialport';

type SerialPortModule = typeof SerialPortNs;

export interface SerialPortInfo {
  path: string;
  manufacturer: string | undefined;
  serialNumber: string | undefined;
  vendorId: string | undefined;
  productId: string | undefined;
}

export function loadSerialPort(): SerialPortModule {
  const mod = loadOptional<SerialPortModule>('serialport');
  if (!mod.ok) {
    throw new FlightDeckError('SERIAL_UNAVAILABLE', `The serialport module did not load: ${mod.error.message.split('\n')[0]}`, {
      cause: mod.error,
    });
  }
  return mod.module;
}

/** Serial ports the OS knows. Needs `udevadm` on Linux. */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  const { SerialPort } = loadSerialPort();
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer,
      serialNumber: p.serialNumber,
      vendorId: p.vendorId,
      productId: p.productId,
    }));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = /udevadm/.test(msg)
      ? 'Listing serial ports needs udev: `sudo apt-get install udev`. Ports can still be opened by path.'
      : undefined;
    throw new FlightDeckError('SERIAL_UNAVAILABLE', `Cannot list serial ports: ${msg}`, { cause: err, ...(hint ? { hint } : {}) });
  }
}
