/**
 * A Device (emulator/device.ts) served in this process over in-memory byte streams: for tests that drive
 * the protocol's message handlers frame by frame (interleavings of two hosts, fuzzing) without sockets.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FrameLink } from '../../core/deploy/link.js';
import type { PlatformLimits } from '../../core/deploy/platform-limits.js';
import type { ByteTransport } from '../../core/deploy/transport.js';
import { Device, type DeviceOptions } from '../../emulator/device.js';
import { SlotStore } from '../../emulator/slots.js';

/** Two connected ends of an in-memory full-duplex stream; bytes arrive asynchronously, as on a socket. */
export function memoryPair(description = 'memory://device'): [ByteTransport, ByteTransport] {
  type End = { listeners: Set<(c: Uint8Array) => void>; closers: Array<(e?: Error) => void> };
  const ends: [End, End] = [
    { listeners: new Set(), closers: [] },
    { listeners: new Set(), closers: [] },
  ];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise((r) => setImmediate(r));
    for (const e of ends) for (const c of e.closers.splice(0)) c();
  };
  const side = (me: End, peer: End): ByteTransport => ({
    description,
    write: async (data) => {
      if (closed) throw new Error('closed');
      const copy = Buffer.from(data);
      setImmediate(() => {
        if (!closed) for (const l of peer.listeners) l(copy);
      });
    },
    onData(listener) {
      me.listeners.add(listener);
      return () => me.listeners.delete(listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(() => listener());
      else me.closers.push(listener);
    },
    close,
  });
  return [side(ends[0], ends[1]), side(ends[1], ends[0])];
}

export const TEST_LIMITS: PlatformLimits = { id: 'v6r-small', name: 'test kit', memory: 16 << 20, threads: 1, memory64: false };

export interface InProcessDevice {
  device: Device;
  dir: string;
  /** A new host connection: the host's end of a stream the device serves. `served` settles when it ends. */
  connect(): { transport: ByteTransport; served: Promise<void> };
  logs: string[];
}

/** A state directory on tmpfs when there is one (fsync is cheap there: fuzzing does many). */
export function fastStateDir(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return mkdtempSync(path.join(base, 'fd-device-'));
}

export function inProcessDevice(opts: Partial<DeviceOptions> & { dir?: string } = {}): InProcessDevice {
  const dir = opts.dir ?? fastStateDir();
  const logs: string[] = [];
  const device = new Device({
    limits: TEST_LIMITS,
    store: new SlotStore(dir),
    firmware: 'test',
    serial: 'FDE-TEST',
    checkpointBytes: 16 << 10,
    crash: (phase) => {
      throw new Error(`crash at ${phase}`);
    },
    log: (m) => logs.push(m),
    ...opts,
  });
  return {
    device,
    dir,
    logs,
    connect() {
      const [host, dev] = memoryPair();
      const served = device.serve(new FrameLink(dev, device.maxFrame));
      return { transport: host, served };
    },
  };
}
