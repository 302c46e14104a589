import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { listDevices, registerEmulator, resolveDevice } from '../../../../core/deploy/devices.js';
import type { DeviceFinder } from '../../../../core/deploy/transport.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { tempHome } from '../../../support/cli.js';

const finder: DeviceFinder = {
  serialPorts: async () => [
    { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', manufacturer: 'FTDI', serialNumber: 'A1' },
    { path: '/dev/ttyS0', vendorId: undefined, productId: undefined, manufacturer: undefined, serialNumber: undefined },
  ],
  usbDevices: async () => {
    throw new FlightDeckError('USB_UNAVAILABLE', 'Cannot enumerate USB devices: no /sys/bus/usb');
  },
};

describe('devices', () => {
  it('lists serial ports with known adapters marked, configured devices and live emulators; reports a failing source', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(
      path.join(paths.config, 'devices.json'),
      JSON.stringify({ devices: [{ name: 'dc-bench', uri: 'serial:///dev/ttyUSB0?baud=921600', platform: 'dreamcast' }] }),
    );
    registerEmulator(paths, { pid: process.pid, uri: 'tcp://127.0.0.1:7000', platform: 'vita', name: 'emu', stateDir: '/tmp/x' });
    registerEmulator(paths, { pid: 2 ** 22 + 17, uri: 'tcp://127.0.0.1:7001', platform: 'vita', name: 'dead', stateDir: '/tmp/y' });

    const r = await listDevices(finder, paths);
    expect(r.devices).toEqual([
      {
        kind: 'serial',
        uri: 'serial:///dev/ttyUSB0?baud=115200',
        vendorId: '0403',
        productId: '6001',
        manufacturer: 'FTDI',
        serialNumber: 'A1',
        adapter: 'FTDI FT232R USB-serial (Dreamcast coders cable)',
      },
      { kind: 'serial', uri: 'serial:///dev/ttyS0?baud=115200' },
      { kind: 'configured', name: 'dc-bench', uri: 'serial:///dev/ttyUSB0?baud=921600', platform: 'dreamcast' },
      { kind: 'emulator', name: 'emu', uri: 'tcp://127.0.0.1:7000', platform: 'vita' },
    ]);
    expect(r.unavailable).toEqual([{ source: 'usb', code: 'USB_UNAVAILABLE', message: expect.stringContaining('/sys/bus/usb'), hint: expect.any(String) }]);
    // The registration of the process that no longer exists was removed.
    expect(readdirSync(path.join(paths.data, 'emulators'))).toEqual([`${process.pid}.json`]);

    expect(resolveDevice('dc-bench', paths)).toBe('serial:///dev/ttyUSB0?baud=921600');
    expect(resolveDevice('emu', paths)).toBe('tcp://127.0.0.1:7000');
    expect(resolveDevice('tcp://localhost:9', paths)).toBe('tcp://localhost:9');
    expect(() => resolveDevice('nope', paths)).toThrow(expect.objectContaining({ code: 'DEVICE_NOT_FOUND' }));
  });

  it('reports a broken devices.json as CONFIG_INVALID naming the file, without hiding the other sources', async () => {
    const paths = resolvePaths({ FLIGHTDECK_HOME: tempHome() });
    mkdirSync(paths.config, { recursive: true });
    writeFileSync(path.join(paths.config, 'devices.json'), '{"devices": [{"name": "x"}]}');
    const r = await listDevices(finder, paths);
    expect(r.devices.map((d) => d.kind)).toEqual(['serial', 'serial']);
    expect(r.unavailable.find((u) => u.source === 'configured')).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('devices.json') });
  });
});
