/** The deploy ports, implemented with serialport, usb and node:net, for the composition roots. */
import type { DeployPorts } from '../core/deploy/ports.js';
import { formatDeviceUri, type DeviceFinder, type TransportOpener } from '../core/deploy/transport.js';
import { listSerialPorts, openSerial } from './serial/index.js';
import { openTcp } from './tcp/index.js';
import { listUsbDevices, openUsb } from './usb/index.js';

export const openTransport: TransportOpener = async (uri) => {
  const description = formatDeviceUri(uri);
  switch (uri.kind) {
    case 'serial':
      return openSerial(uri.path, uri.baud, description);
    case 'usb':
      return openUsb(uri.vendorId, uri.productId, uri.serial, description);
    case 'tcp':
      return openTcp(uri.host, uri.port, description);
  }
};

export const deviceFinder: DeviceFinder = {
  serialPorts: listSerialPorts,
  usbDevices: async () => listUsbDevices(),
};

export const deployPorts: DeployPorts = { openTransport, finder: deviceFinder };
