/**
 * Ports through which core/deploy reaches devices. native-bridge implements them (serial, usb, tcp) and
 * the composition roots (cli/api.ts, electron/main) pass them in `ApiDeps`.
 */
import { FlightDeckError } from '../errors.js';

/** A full-duplex byte stream to one device: a serial port, a pair of USB bulk endpoints or a socket. */
export interface ByteTransport {
  /** The device URI, for messages. */
  readonly description: string;
  /** Resolves once the OS accepted the bytes (backpressure: wait before writing more). */
  write(data: Uint8Array): Promise<void>;
  /** Subscribe to incoming bytes; returns an unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Called once when the stream ends (error set when it broke). */
  onClose(listener: (error?: Error) => void): void;
  close(): Promise<void>;
  /** Serial only: switch the open port to another line rate. */
  setLineRate?(baud: number): Promise<void>;
}

export type DeviceUri =
  | { kind: 'serial'; path: string; baud: number }
  | { kind: 'usb'; vendorId: number; productId: number; serial: string | undefined }
  | { kind: 'tcp'; host: string; port: number };

/** Opens a transport for a parsed URI (native-bridge/transports.ts). */
export type TransportOpener = (uri: DeviceUri) => Promise<ByteTransport>;

export interface SerialPortEntry {
  path: string;
  vendorId: string | undefined;
  productId: string | undefined;
  manufacturer: string | undefined;
  serialNumber: string | undefined;
}

export interface UsbDeviceEntry {
  vendorId: string;
  productId: string;
  bus: number;
  address: number;
}

/** Enumerates attachable hardware; each list fails on its own (a missing USB stack leaves serial listed). */
export interface DeviceFinder {
  serialPorts(): Promise<SerialPortEntry[]>;
  usbDevices(): Promise<UsbDeviceEntry[]>;
}

export const DEFAULT_BAUD = 115200;

function invalid(uri: string, why: string): FlightDeckError {
  return new FlightDeckError('DEVICE_URI_INVALID', `Invalid device URI ${JSON.stringify(uri)}: ${why}.`, { details: { uri } });
}

/**
 * Parse `serial:///dev/ttyUSB0?baud=921600`, `usb://VID:PID[/SERIAL]` or `tcp://host:port`
 * (`listen`: port 0, any free port, is allowed).
 */
export function parseDeviceUri(uri: string, listen = false): DeviceUri {
  if (/^usb:/i.test(uri)) {
    // Not a WHATWG URL: "VID:PID" would parse as host:port.
    const m = /^usb:\/\/([0-9a-f]{4}):([0-9a-f]{4})(?:\/([^/?#]+))?$/i.exec(uri);
    if (!m) throw invalid(uri, 'expected usb://VID:PID[/SERIAL] with 4-digit hex ids');
    return { kind: 'usb', vendorId: parseInt(m[1]!, 16), productId: parseInt(m[2]!, 16), serial: m[3] ? decodeURIComponent(m[3]) : undefined };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid(uri, 'not a URI');
  }
  switch (url.protocol) {
    case 'serial:': {
      const path = decodeURIComponent(url.pathname);
      if (!/^serial:\/\/\//i.test(uri) || path === '/' || url.host) throw invalid(uri, 'expected serial:///absolute/path/to/port');
      const baudText = url.searchParams.get('baud');
      const baud = baudText === null ? DEFAULT_BAUD : Number(baudText);
      if (!Number.isInteger(baud) || baud < 300 || baud > 16_000_000) throw invalid(uri, `baud ${JSON.stringify(baudText)} is not a line rate`);
      return { kind: 'serial', path, baud };
    }
    case 'tcp:': {
      const port = Number(url.port);
      if (!url.hostname || !url.port || !Number.isInteger(port) || port < (listen ? 0 : 1) || port > 65535) throw invalid(uri, 'expected tcp://host:port');
      return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port };
    }
    default:
      throw invalid(uri, `unknown scheme ${JSON.stringify(url.protocol)}`);
  }
}

export function formatDeviceUri(uri: DeviceUri): string {
  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  switch (uri.kind) {
    case 'serial':
      return `serial://${uri.path}?baud=${uri.baud}`;
    case 'tcp':
      return `tcp://${uri.host.includes(':') ? `[${uri.host}]` : uri.host}:${uri.port}`;
    case 'usb':
      return `usb://${hex4(uri.vendorId)}:${hex4(uri.productId)}${uri.serial ? `/${encodeURIComponent(uri.serial)}` : ''}`;
  }
}
