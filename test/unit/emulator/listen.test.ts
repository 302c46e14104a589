import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { parseListen, startEmulator, type Emulator } from '../../../emulator/emulator.js';
import { stateDir } from '../../support/emulator.js';

const started: Emulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

describe('emulator TCP listener (issue 15)', () => {
  it('a bare port binds loopback; another address must be named', () => {
    expect(parseListen('7000')).toEqual({ host: '127.0.0.1', port: 7000, loopback: true });
    expect(parseListen(':0')).toEqual({ host: '127.0.0.1', port: 0, loopback: true });
    expect(parseListen('tcp://[::1]:0')).toMatchObject({ host: '::1', loopback: true });
    expect(parseListen('tcp://localhost:9')).toMatchObject({ loopback: true });
    expect(parseListen('tcp://0.0.0.0:7000')).toEqual({ host: '0.0.0.0', port: 7000, loopback: false });
    expect(() => parseListen('serial:///dev/x')).toThrow(expect.objectContaining({ code: 'DEVICE_URI_INVALID' }));
    expect(() => parseListen('70000')).toThrow(expect.objectContaining({ code: 'DEVICE_URI_INVALID' }));
  });

  it('without --listen or --serial it listens on 127.0.0.1 only', async () => {
    const e = await startEmulator({ platform: 'v6r-small', stateDir: stateDir() });
    started.push(e);
    expect(e.uri).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(e.exposed).toBe(false);
    const port = Number(e.uri.split(':').pop());
    // Reachable on loopback.
    await new Promise<void>((resolve, reject) =>
      net
        .connect({ host: '127.0.0.1', port })
        .once('connect', function (this: net.Socket) {
          this.destroy();
          resolve();
        })
        .once('error', reject),
    );
  });
});
