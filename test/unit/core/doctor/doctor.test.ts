import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runProbes, type CapabilityProbe } from '../../../../core/doctor/doctor.js';
import { registryBaseUrl, registryProbe } from '../../../../core/doctor/registry-probe.js';
import { FlightDeckError } from '../../../../core/errors.js';

describe('runProbes', () => {
  it('reports a throwing probe as missing with its code and hint, and keeps the others', async () => {
    const probes: CapabilityProbe[] = [
      {
        id: 'usb',
        label: 'USB',
        run: async () => {
          throw new FlightDeckError('USB_UNAVAILABLE', 'no bus');
        },
      },
      { id: 'serial', label: 'Serial', run: async () => ({ status: 'ok', summary: 'fine' }) },
    ];
    const [usb, serial] = await runProbes(probes);
    expect(usb).toMatchObject({ id: 'usb', status: 'missing', code: 'USB_UNAVAILABLE', summary: 'no bus' });
    expect(usb?.hint).toBeTruthy();
    expect(serial).toMatchObject({ id: 'serial', status: 'ok' });
  });

  it('does not hang on a probe that never answers', async () => {
    let aborted = false;
    const hang: CapabilityProbe = {
      id: 'keychain',
      label: 'Keychain',
      run: (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
    };
    const [r] = await runProbes([hang], 50);
    expect(r).toMatchObject({ status: 'missing', summary: expect.stringContaining('No answer') });
    expect(aborted).toBe(true);
  });
});

describe('registry probe', () => {
  it('uses http for localhost and configured plain-http hosts, https otherwise', () => {
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('reg.lab:5000', ['reg.lab:5000'])).toBe('http://reg.lab:5000');
    expect(registryBaseUrl('oras.example')).toBe('https://oras.example');
  });

  it('warns when no registry is configured', async () => {
    expect(await registryProbe([]).run(new AbortController().signal)).toMatchObject({ status: 'warn' });
  });

  it('accepts 200 and 401 from /v2/ and reports hosts that do not answer', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/v2/' ? 401 : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const up = await registryProbe([`127.0.0.1:${port}`]).run(new AbortController().signal);
      expect(up.status).toBe('ok');
      const closed = await new Promise<number>((resolve) => {
        const s = http.createServer();
        s.listen(0, '127.0.0.1', () => {
          const p = (s.address() as AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const down = await registryProbe([`127.0.0.1:${port}`, `127.0.0.1:${closed}`]).run(new AbortController().signal);
      expect(down).toMatchObject({ status: 'missing', code: 'REGISTRY_UNREACHABLE' });
      expect(down.summary).toContain(`127.0.0.1:${closed}`);
      expect(down.summary).not.toContain(`127.0.0.1:${port} `);
    } finally {
      server.close();
    }
  });
});
