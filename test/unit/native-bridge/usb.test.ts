/**
 * Contract test of the usb transport. No USB bus exists here, so the device is a fake that implements the
 * exact slice of the `usb` library's API the transport uses (UsbDeviceLike & co., which the compiler checks
 * against the library's own declarations: LibraryFitsContract), behaving as the library documents it:
 * open() before interfaces, claim() before transfers, startPoll() emitting 'data', transfer(buf, cb).
 * Behind the fake endpoints sits the real emulator device, so a whole deploy crosses the transport.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy } from '../../../core/deploy/deploy.js';
import { profileCheck } from '../../../core/deploy/check.js';
import { tempHome } from '../../support/cli.js';
import { resolvePaths } from '../../../core/config/paths.js';
import { FrameLink } from '../../../core/deploy/link.js';
import { platformLimits } from '../../../core/deploy/platform-limits.js';
import { sha256 } from '../../../core/deploy/payload.js';
import type { ByteTransport } from '../../../core/deploy/transport.js';
import { Device, MAX_FRAME } from '../../../emulator/device.js';
import { SlotStore } from '../../../emulator/slots.js';
import {
  openUsb,
  TRANSFER_TYPE_BULK,
  type UsbDeviceLike,
  type UsbInEndpointLike,
  type UsbInterfaceLike,
  type UsbModule,
  type UsbOutEndpointLike,
} from '../../../native-bridge/usb/index.js';
import type { FlightDeckError } from '../../../core/errors.js';
import { activePayload, stateDir } from '../../support/emulator.js';
import { withCustomSection } from '../../support/wasm.js';

const hostCheck = profileCheck(resolvePaths({ FLIGHTDECK_HOME: tempHome() }));

const INTERRUPT = 3;

class FakeIn extends EventEmitter implements UsbInEndpointLike {
  direction = 'in' as const;
  transferType: number;
  polling: [number | undefined, number | undefined] | undefined;
  constructor(transferType = TRANSFER_TYPE_BULK) {
    super();
    this.transferType = transferType;
  }
  startPoll(n?: number, size?: number) {
    this.polling = [n, size];
    return [];
  }
  stopPoll(cb?: () => void) {
    this.polling = undefined;
    setImmediate(() => cb?.());
  }
}

class FakeOut implements UsbOutEndpointLike {
  direction = 'out' as const;
  transferType = TRANSFER_TYPE_BULK;
  constructor(
    private readonly sink: (b: Buffer) => void,
    private readonly claimed: () => boolean,
  ) {}
  transfer(buffer: Buffer, cb?: (error: Error | undefined, actual: number) => void) {
    setImmediate(() => {
      if (!this.claimed()) return cb?.(new Error('LIBUSB_ERROR_ACCESS'), 0);
      this.sink(Buffer.from(buffer));
      cb?.(undefined, buffer.length);
    });
    return this;
  }
}

class FakeInterface implements UsbInterfaceLike {
  claimed = false;
  released = false;
  detached = false;
  constructor(
    public endpoints: Array<FakeIn | FakeOut>,
    private readonly kernelDriver = false,
  ) {}
  claim() {
    this.claimed = true;
  }
  release(_close?: boolean, cb?: (error?: Error) => void) {
    this.released = true;
    this.claimed = false;
    setImmediate(() => cb?.());
  }
  isKernelDriverActive() {
    return this.kernelDriver && !this.detached;
  }
  detachKernelDriver() {
    this.detached = true;
  }
}

/** A kit on the fake bus: interface 0 is a HID-like interrupt endpoint, interface 1 the bulk data pair. */
function fakeKit(serial: string, deviceSide: ByteTransport & { feed(b: Buffer): void; setSend(f: (b: Buffer) => void): void }) {
  const bulkIn = new FakeIn();
  const data: FakeInterface = new FakeInterface(
    [
      bulkIn,
      new FakeOut(
        (b) => deviceSide.feed(b),
        () => data.claimed,
      ),
    ],
    true,
  );
  deviceSide.setSend((b) => bulkIn.emit('data', b));
  const hid = new FakeInterface([new FakeIn(INTERRUPT)]);
  let opened = false;
  const device: UsbDeviceLike & { opened: () => boolean } = {
    deviceDescriptor: { idVendor: 0x054c, idProduct: 0x04e4, iSerialNumber: 3 },
    busNumber: 1,
    deviceAddress: 7,
    get interfaces() {
      return opened ? [hid, data] : undefined;
    },
    open: () => void (opened = true),
    close: () => void (opened = false),
    getStringDescriptor: (index, cb) => setImmediate(() => (opened && index === 3 ? cb(undefined, serial) : cb(new Error('LIBUSB_ERROR_IO')))),
    opened: () => opened,
  };
  return { device, data, bulkIn };
}

/** The device's end of the fake bus as a ByteTransport. */
function busEnd(): ByteTransport & { feed(b: Buffer): void; setSend(f: (b: Buffer) => void): void } {
  const listeners = new Set<(c: Uint8Array) => void>();
  const closers: Array<() => void> = [];
  let send: (b: Buffer) => void = () => {};
  return {
    description: 'usb device side',
    feed: (b) => listeners.forEach((l) => l(b)),
    setSend: (f) => (send = f),
    write: async (d) => send(Buffer.from(d)),
    onData: (l) => (listeners.add(l), () => listeners.delete(l)),
    onClose: (l) => closers.push(l),
    close: async () => closers.forEach((c) => c()),
  };
}

const ends: ByteTransport[] = [];
afterEach(async () => {
  for (const e of ends.splice(0)) await e.close();
});

describe('usb transport (contract test against a fake of the usb library API)', () => {
  it('claims the bulk interface (detaching the kernel driver), polls IN, and carries a whole deploy', async () => {
    const end = busEnd();
    ends.push(end);
    const kit = fakeKit('VITA-0042', end);
    const dir = stateDir();
    const device = new Device({
      limits: await platformLimits('vita', resolvePaths({ FLIGHTDECK_HOME: tempHome() })),
      store: new SlotStore(dir),
      firmware: 'fake-usb',
      checkpointBytes: 4096,
      crash: () => {},
    });
    void device.serve(new FrameLink(end, MAX_FRAME));
    const other = fakeKit('OTHER', busEnd());
    const usb: UsbModule = { getDeviceList: () => [other.device, kit.device] };

    const transport = await openUsb(0x054c, 0x04e4, 'VITA-0042', 'usb://054c:04e4/VITA-0042', usb);
    expect(kit.data.detached).toBe(true);
    expect(kit.data.claimed).toBe(true);
    expect(kit.bulkIn.polling).toEqual([4, 16384]);
    expect(other.device.opened()).toBe(false); // opened to read its serial, then closed again

    // An empty module carrying 50 kB of random bytes in a custom section: valid, incompressible.
    const wasmish = withCustomSection(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), 'blob', randomBytes(50_000));
    const r = await deploy({ bytes: wasmish, sha256: sha256(wasmish), name: 'x.wasm', platform: 'vita' }, transport, hostCheck, {
      force: false,
      resume: true,
      run: false,
      compression: 'auto',
    });
    expect(r).toMatchObject({ outcome: 'committed', compression: 'none', device: 'usb://054c:04e4/VITA-0042' });
    expect(activePayload(dir)).toEqual(wasmish);
    expect(kit.data.released).toBe(true); // deploy closed the transport: stopPoll, release, close
    expect(kit.bulkIn.polling).toBeUndefined();
    expect(kit.device.opened()).toBe(false);
  });

  it('reports a missing device, a device without a bulk pair, and an unavailable bus with stable codes', async () => {
    const kit = fakeKit('A', busEnd());
    const code = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as FlightDeckError).code;
    expect(await code(openUsb(0x054c, 0x04e4, 'B', 'usb://054c:04e4/B', { getDeviceList: () => [kit.device] }))).toBe('DEVICE_NOT_FOUND');
    expect(await code(openUsb(0x1234, 0x5678, undefined, 'usb://1234:5678', { getDeviceList: () => [kit.device] }))).toBe('DEVICE_NOT_FOUND');
    kit.data.endpoints = [kit.bulkIn];
    expect(await code(openUsb(0x054c, 0x04e4, undefined, 'usb://054c:04e4', { getDeviceList: () => [kit.device] }))).toBe('DEVICE_PROTOCOL_ERROR');
    const broken: UsbModule = {
      getDeviceList: () => {
        throw new Error('LIBUSB_ERROR_OTHER: /sys/bus/usb missing');
      },
    };
    expect(await code(openUsb(0x054c, 0x04e4, undefined, 'usb://054c:04e4', broken))).toBe('USB_UNAVAILABLE');
  });
});
