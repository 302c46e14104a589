import net from 'node:net';
import { FlightDeckError } from '../../core/errors.js';
import type { ByteTransport } from '../../core/deploy/transport.js';

/** A ByteTransport over a connected socket (both the host side and the emulator's accepted sockets). */
export function socketTransport(socket: net.Socket, description: string): ByteTransport {
  socket.setNoDelay(true);
  const closeListeners: Array<(err?: Error) => void> = [];
  let closed = false;
  let lastError: Error | undefined;
  socket.on('error', (err) => (lastError = err));
  socket.on('close', () => {
    closed = true;
    for (const l of closeListeners) l(lastError);
  });
  return {
    description,
    write: (data) =>
      new Promise((resolve, reject) => {
        if (closed || socket.destroyed) return reject(new FlightDeckError('DEVICE_DISCONNECTED', `${description} is closed.`));
        socket.write(data, (err) => (err ? reject(new FlightDeckError('DEVICE_DISCONNECTED', `${description}: ${err.message}`, { cause: err })) : resolve()));
      }),
    onData(listener) {
      socket.on('data', listener);
      return () => socket.off('data', listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(() => listener(lastError));
      else closeListeners.push(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 200).unref();
      }),
  };
}

export function openTcp(host: string, port: number, description: string, timeoutMs = 5000): Promise<ByteTransport> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new FlightDeckError('DEVICE_TIMEOUT', `No connection to ${description} within ${timeoutMs} ms.`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socketTransport(socket, description));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' ? 'DEVICE_NOT_FOUND' : 'DEVICE_DISCONNECTED';
      reject(new FlightDeckError(code, `Cannot connect to ${description}: ${err.message}`, { cause: err }));
    });
  });
}
