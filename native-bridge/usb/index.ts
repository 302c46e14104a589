import type { Device as UsbLibDevice, Interface as UsbLibInterface } from 'usb';
import { FlightDeckError } from '../../core/errors.js';
import type { ByteTransport } from '../../core/deploy/transport.js';
import { loadOptional } from '../lazy.js';

/**
 * The part of the `usb` package's API Flight Deck relies on (usb@2 and usb@3 both offer it). The fake in
 * test/unit/native-bridge/usb.test.ts implements exactly these types, and `LibraryFitsContract` below makes the
 * compiler prove that the library's own declarations satisfy them: that pair is the contract test.
 */
export interface UsbEndpointLike {
  direction: 'in' | 'out';
  transferType: number;
}
export interface UsbInEndpointLike extends UsbEndpointLike {
  startPoll(nTransfers?: number, transferSize?: number): unknown;
  stopPoll(callback?: () => void): void;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
export interface UsbOutEndpointLike extends UsbEndpointLike {
  transfer(buffer: Buffer, callback?: (error: Error | undefined, actual: number) => void): unknown;
}
export interface UsbInterfaceLike {
  endpoints: UsbEndpointLike[];
  claim(): void;
  release(closeEndpoints?: boolean, callback?: (error?: Error) => void): void;
  isKernelDriverActive(): boolean;
  detachKernelDriver(): void;
}
export interface UsbDeviceLike {
  deviceDescriptor: { idVendor: number; idProduct: number; iSerialNumber: number };
  busNumber: number;
  deviceAddress: number;
  interfaces: UsbInterfaceLike[] | undefined;
  open(defaultConfig?: boolean): void;
  close(): void;
  getStringDescriptor(index: number, callback: (error?: Error, value?: string) => void): void;
}
export interface UsbModule {
  getDeviceList(): UsbDeviceLike[];
}

// Compile-time half of the contract: the installed library's types fit the interfaces above.
type Fits<Port, Library extends Port> = Library;
export type LibraryFitsContract = [Fits<UsbDeviceLike, UsbLibDevice>, Fits<UsbInterfaceLike, UsbLibInterface>];

/** libusb's bulk transfer type (LIBUSB_TRANSFER_TYPE_BULK). */
export const TRANSFER_TYPE_BULK = 2;

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

function deviceList(usb: UsbModule): UsbDeviceLike[] {
  try {
    return usb.getDeviceList();
  } catch (err) {
    throw new FlightDeckError('USB_UNAVAILABLE', `Cannot enumerate USB devices: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** Attached USB devices. usb@3 throws when /sys/bus/usb is missing; usb@2 returns []. Both end here. */
export function listUsbDevices(usb: UsbModule = loadUsb()): UsbDeviceInfo[] {
  return deviceList(usb).map((d) => ({
    vendorId: hex4(d.deviceDescriptor.idVendor),
    productId: hex4(d.deviceDescriptor.idProduct),
    bus: d.busNumber,
    address: d.deviceAddress,
  }));
}

function serialOf(device: UsbDeviceLike): Promise<string | undefined> {
  return new Promise((resolve) => device.getStringDescriptor(device.deviceDescriptor.iSerialNumber, (err, value) => resolve(err ? undefined : value)));
}

/**
 * Open `usb://VID:PID[/SERIAL]` as a ByteTransport over the first interface that has a bulk IN and a bulk
 * OUT endpoint (the kit's data channel): claim it, poll IN, write with OUT transfers.
 */
export async function openUsb(
  vendorId: number,
  productId: number,
  serial: string | undefined,
  description: string,
  usb: UsbModule = loadUsb(),
): Promise<ByteTransport> {
  let device: UsbDeviceLike | undefined;
  for (const d of deviceList(usb)) {
    if (d.deviceDescriptor.idVendor !== vendorId || d.deviceDescriptor.idProduct !== productId) continue;
    d.open();
    if (serial === undefined || (await serialOf(d)) === serial) {
      device = d;
      break;
    }
    d.close();
  }
  if (!device) throw new FlightDeckError('DEVICE_NOT_FOUND', `No USB device ${description} is attached.`);
  const dev = device;
  const bulk = (i: UsbInterfaceLike, dir: 'in' | 'out') => i.endpoints.find((e) => e.direction === dir && e.transferType === TRANSFER_TYPE_BULK);
  const iface = (dev.interfaces ?? []).find((i) => bulk(i, 'in') && bulk(i, 'out'));
  if (!iface) {
    dev.close();
    throw new FlightDeckError('DEVICE_PROTOCOL_ERROR', `${description} has no interface with a bulk IN and a bulk OUT endpoint.`);
  }
  const inEp = bulk(iface, 'in') as UsbInEndpointLike;
  const outEp = bulk(iface, 'out') as UsbOutEndpointLike;
  try {
    if (iface.isKernelDriverActive()) iface.detachKernelDriver();
    iface.claim();
  } catch (err) {
    dev.close();
    throw new FlightDeckError('DEVICE_DISCONNECTED', `Cannot claim ${description}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Another program may hold the device, or you lack permission (add a udev rule for its VID:PID).',
    });
  }
  const dataListeners = new Set<(chunk: Uint8Array) => void>();
  const closeListeners: Array<(err?: Error) => void> = [];
  let closed = false;
  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners) l(err);
  };
  inEp.on('data', (data) => {
    for (const l of dataListeners) l(data);
  });
  inEp.on('error', (err) => finish(err));
  inEp.startPoll(4, 16384);
  return {
    description,
    write: (data) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new FlightDeckError('DEVICE_DISCONNECTED', `${description} is closed.`));
        outEp.transfer(Buffer.from(data), (err) => {
          if (!err) return resolve();
          finish(err);
          reject(new FlightDeckError('DEVICE_DISCONNECTED', `${description}: ${err.message}`, { cause: err }));
        });
      }),
    onData(listener) {
      dataListeners.add(listener);
      return () => dataListeners.delete(listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(() => listener());
      else closeListeners.push(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        inEp.stopPoll(() =>
          iface.release(true, () => {
            dev.close();
            finish();
            resolve();
          }),
        );
      }),
  };
}
