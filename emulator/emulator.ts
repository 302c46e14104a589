/**
 * The reference dev-kit emulator: a Device on a TCP listener or a serial port (a pty in tests), with
 * line-rate pacing and fault injection. `flightdeck emulate` runs it; tests start it in-process.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { FrameLink } from '../core/deploy/link.js';
import { platformLimits } from '../core/deploy/platform-limits.js';
import { PROTOCOL_CONSTANTS } from '../core/deploy/protocol.js';
import { formatDeviceUri, parseDeviceUri, type ByteTransport } from '../core/deploy/transport.js';
import { FlightDeckError } from '../core/errors.js';
import { packageVersion } from '../core/config/package.js';
import { resolvePaths, type FlightDeckPaths } from '../core/config/paths.js';
import { openSerial } from '../native-bridge/serial/index.js';
import { socketTransport } from '../native-bridge/tcp/index.js';
import { Device, type LineControl } from './device.js';
import { LineFaults, type CrashPhase, type Faults } from './faults.js';
import { paced } from './pacing.js';
import { SlotStore } from './slots.js';

export const SERIAL_LINE_RATES = [115200, 230400, 460800, 921600];

export interface EmulatorOptions {
  /** A platform id: the profile (built in or the user's) gives the limits the device enforces. */
  platform: string;
  /** Where user platform profiles live (default: the OS folders / FLIGHTDECK_HOME). */
  paths?: FlightDeckPaths;
  stateDir: string;
  /**
   * `tcp://HOST:PORT` or a bare `PORT` (port 0: any free port). A bare port, and no --listen nor --serial
   * at all, bind the loopback address 127.0.0.1: reaching the emulator from another machine takes an
   * explicit host such as tcp://0.0.0.0:7000.
   */
  listen?: string;
  /** Path of the serial port or pty to serve on. */
  serial?: string;
  /** Serial: pace bytes at this line rate (a pty has none); also the rate the port opens at. */
  lineRate?: number;
  faults?: Faults;
  /** Serial line rates that fail (test fault for the rate switch fallback). */
  badRates?: number[];
  checkpointBytes?: number;
  /** Test fault: hold the first upload after its first block until another host is refused BUSY (or releaseHold). */
  holdUpload?: boolean;
  /** With holdUpload: hold once the upload has this many bytes (default: after its first block). */
  holdAfter?: number;
  /** INFO.maxFrame: the longest frame the device takes, in wire bytes (default 256 KiB + 64). */
  maxFrame?: number;
  /** Test fault: drop the device's reply to the first N requests of these types (e.g. `{ ROLLBACK: 1 }`). */
  dropReplies?: Partial<Record<string, number>>;
  /** What a crash at `faults.crashAt` does; default: the process kills itself, as a kit losing power. */
  crash?: (phase: CrashPhase) => void;
  log?: (message: string) => void;
}

/** Bytes the emulator received from and sent to hosts, over all connections (what a test can assert on). */
export interface ByteCounters {
  bytesIn: number;
  bytesOut: number;
}

export interface Emulator {
  uri: string;
  /** The TCP listener is bound to an address other hosts can reach (not loopback). */
  exposed: boolean;
  platform: string;
  /** The serial number it reports in INFO, kept in its state directory. */
  serial: string;
  counters: ByteCounters;
  /** End the holdUpload test fault. */
  releaseHold(): void;
  close(): Promise<void>;
}

/** Where the emulator listens when told nothing: loopback, any free port. */
export const DEFAULT_LISTEN = 'tcp://127.0.0.1:0';

/** `--listen`: tcp://HOST:PORT, or a bare PORT (also `:PORT`) on 127.0.0.1. */
export function parseListen(text: string): { host: string; port: number; loopback: boolean } {
  const bare = /^:?(\d{1,5})$/.exec(text.trim());
  const uri = parseDeviceUri(bare ? `tcp://127.0.0.1:${bare[1]}` : text, true);
  if (uri.kind !== 'tcp') throw new FlightDeckError('DEVICE_URI_INVALID', `--listen takes tcp://HOST:PORT or a port, not ${JSON.stringify(text)}.`);
  const loopback = /^127\./.test(uri.host) || uri.host === '::1' || uri.host.toLowerCase() === 'localhost';
  return { host: uri.host, port: uri.port, loopback };
}

export async function startEmulator(o: EmulatorOptions): Promise<Emulator> {
  const limits = await platformLimits(o.platform, o.paths ?? resolvePaths());
  if (o.listen && o.serial) {
    throw new FlightDeckError('USAGE', 'The emulator serves on one of --listen tcp://HOST:PORT or --serial PATH, not both.');
  }
  if (o.listen && o.lineRate) {
    throw new FlightDeckError('USAGE', '--line-rate paces a serial line; a TCP listener (--listen) has none. Use it with --serial.');
  }
  const crash = o.crash ?? (() => process.kill(process.pid, 'SIGKILL'));
  let store: SlotStore;
  try {
    store = new SlotStore(o.stateDir, () => {
      if (o.faults?.crashAt === 'commit') {
        o.log?.('crash at commit');
        crash('commit');
      }
    });
  } catch (err) {
    throw new FlightDeckError('IO_ERROR', `Cannot use ${o.stateDir} as the emulator's state directory: ${(err as Error).message}`, {
      cause: err,
      details: { path: o.stateDir },
    });
  }
  const serial = deviceSerial(o.stateDir);
  const device = new Device({
    limits,
    store,
    firmware: `flightdeck-emulator ${packageVersion()}`,
    serial,
    // Time (250 ms) bounds what a crash loses on a slow line; bytes bound the fsync rate on a fast one.
    checkpointBytes: o.checkpointBytes ?? PROTOCOL_CONSTANTS.checkpointBytes,
    ...(o.faults?.crashAt ? { crashAt: o.faults.crashAt } : {}),
    crash: (phase) => {
      o.log?.(`crash at ${phase}`);
      crash(phase);
    },
    ...(o.badRates ? { badRates: o.badRates } : {}),
    ...(o.holdUpload ? { holdUpload: true } : {}),
    ...(o.holdAfter ? { holdAfter: o.holdAfter } : {}),
    ...(o.dropReplies ? { dropReplies: o.dropReplies } : {}),
    ...(o.maxFrame ? { maxFrame: o.maxFrame } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  const faults = new LineFaults(o.faults ?? {});
  const counters: ByteCounters = { bytesIn: 0, bytesOut: 0 };
  const wrap = (t: ByteTransport, disconnect: () => void) => counted(faults.wrap(t, disconnect), counters);
  const emulator = o.serial ? await serveSerial(o.serial, o, device, wrap) : await listenTcp(o.listen ?? DEFAULT_LISTEN, device, wrap);
  return { exposed: false, ...emulator, platform: limits.id, serial, counters, releaseHold: () => device.releaseHold() };
}

type Wrap = (transport: ByteTransport, disconnect: () => void) => ByteTransport;
type Served = Omit<Emulator, 'platform' | 'serial' | 'counters' | 'releaseHold' | 'exposed'> & { exposed?: boolean };

/** The serial number of the emulated kit: made once, then kept with its slots. */
function deviceSerial(stateDir: string): string {
  const file = path.join(stateDir, 'serial');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const serial = `FDE-${randomBytes(6).toString('hex').toUpperCase()}`;
    fs.writeFileSync(file, serial + '\n');
    return serial;
  }
}

function counted(inner: ByteTransport, counters: ByteCounters): ByteTransport {
  const counting: ByteTransport = {
    description: inner.description,
    write: async (data) => {
      counters.bytesOut += data.length;
      await inner.write(data);
    },
    onData: (listener) =>
      inner.onData((chunk) => {
        counters.bytesIn += chunk.length;
        listener(chunk);
      }),
    onClose: (listener) => inner.onClose(listener),
    close: () => inner.close(),
  };
  if (inner.setLineRate) counting.setLineRate = (baud) => inner.setLineRate!(baud);
  return counting;
}

async function listenTcp(listen: string, device: Device, wrap: Wrap): Promise<Served> {
  const uri = parseListen(listen);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const transport = wrap(socketTransport(socket, `host ${socket.remoteAddress}:${socket.remotePort}`), () => socket.destroy());
    device.serve(new FrameLink(transport, device.maxFrame)).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new FlightDeckError('IO_ERROR', `Cannot listen on ${listen}: ${err.message}`, { cause: err, hint: 'Pick another port, or port 0 for any free one.' }),
      ),
    );
    server.listen(uri.port === 0 ? 0 : uri.port, uri.host, resolve);
  });
  const addr = server.address() as net.AddressInfo;
  return {
    uri: formatDeviceUri({ kind: 'tcp', host: uri.host, port: addr.port }),
    exposed: !uri.loopback,
    close: async () => {
      device.shutdown();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serve on a serial port; after a disconnect (a fault) the port is reopened for the next host. */
async function serveSerial(path: string, o: EmulatorOptions, device: Device, wrap: Wrap): Promise<Served> {
  const baud = o.lineRate ?? 115200;
  let current: ByteTransport | undefined;
  let closing = false;
  const open = async (): Promise<void> => {
    const port = await openSerial(path, baud);
    const line: LineControl = { rate: baud, rates: SERIAL_LINE_RATES, set: async () => {} };
    let transport: ByteTransport = wrap(port, () => void port.close());
    if (o.lineRate) {
      const pacedPort = paced(transport, baud);
      transport = pacedPort;
      line.set = async (rate) => {
        await port.setLineRate?.(rate);
        pacedPort.setPace(rate);
        line.rate = rate;
      };
    } else {
      line.set = async (rate) => {
        await port.setLineRate?.(rate);
        line.rate = rate;
      };
    }
    current = transport;
    device.serve(new FrameLink(transport, device.maxFrame), line).then(
      () => reopen(),
      () => reopen(),
    );
  };
  const reopen = () => {
    if (closing) return;
    setTimeout(() => void open().catch((err: Error) => o.log?.(`cannot reopen ${path}: ${err.message}`)), 300);
  };
  await open();
  return {
    uri: formatDeviceUri({ kind: 'serial', path, baud }),
    close: async () => {
      closing = true;
      device.shutdown();
      await current?.close();
    },
  };
}
