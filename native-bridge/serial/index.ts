import { FlightDeckError } from '../../core/errors.js';
import { loadOptional } from '../lazy.js';
import type * as SerialPortNs from 'serialport';
import type { ByteTransport } from '../../core/deploy/transport.js';

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
    const hint = /udevadm/.test(msg) ? 'Listing serial ports needs udev: `sudo apt-get install udev`. Ports can still be opened by path.' : undefined;
    throw new FlightDeckError('SERIAL_UNAVAILABLE', `Cannot list serial ports: ${msg}`, { cause: err, ...(hint ? { hint } : {}) });
  }
}

/** Open a serial port (or a pty) as a ByteTransport. */
export async function openSerial(path: string, baud: number, description = `serial://${path}`): Promise<ByteTransport> {
  const { SerialPort } = loadSerialPort();
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => {
      if (!err) return resolve();
      const missing = /ENOENT|No such file/.test(err.message);
      if (/Cannot lock port/i.test(err.message)) {
        // serialport opens with an exclusive lock: another program (e.g. another deploy) holds the port.
        return reject(
          new FlightDeckError('DEVICE_BUSY', `Cannot open ${description}: another program holds the port (${err.message}).`, {
            cause: err,
            hint: 'Another host or program is using this port (another deploy?); wait for it to finish, or pick another device.',
          }),
        );
      }
      reject(
        new FlightDeckError(missing ? 'DEVICE_NOT_FOUND' : 'DEVICE_DISCONNECTED', `Cannot open ${description}: ${err.message}`, {
          cause: err,
          ...(missing ? {} : { hint: 'Check that no other program holds the port and that you may use it (group dialout).' }),
        }),
      );
    }),
  );
  let closed = false;
  let lastError: Error | undefined;
  const closeListeners: Array<(err?: Error) => void> = [];
  port.on('error', (err: Error) => (lastError = err));
  // A write in flight when the port closes never gets its callback: fail it on close instead.
  const pending = new Set<(err: Error) => void>();
  port.on('close', () => {
    closed = true;
    for (const fail of pending) fail(new Error('the port closed'));
    for (const l of closeListeners) l(lastError);
  });
  const fail = (err: Error) => new FlightDeckError('DEVICE_DISCONNECTED', `${description}: ${err.message}`, { cause: err });
  return {
    description,
    write: (data) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new FlightDeckError('DEVICE_DISCONNECTED', `${description} is closed.`));
        const settle = (err?: Error | null) => {
          pending.delete(settle);
          if (err) reject(fail(err));
          else resolve();
        };
        pending.add(settle);
        port.write(Buffer.from(data), (err) => (err ? settle(err) : port.drain((e) => settle(e))));
      }),
    onData(listener) {
      port.on('data', listener);
      return () => port.off('data', listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(() => listener(lastError));
      else closeListeners.push(listener);
    },
    close: () => new Promise<void>((resolve) => (closed ? resolve() : port.close(() => resolve()))),
    setLineRate: (rate) => new Promise<void>((resolve, reject) => port.update({ baudRate: rate }, (err) => (err ? reject(fail(err)) : resolve()))),
  };
}
