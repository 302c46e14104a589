import type { CapabilityProbe, ProbeResult } from '../core/doctor/doctor.js';
import { toFlightDeckError } from '../core/errors.js';
import { openSecretStore } from './keychain/index.js';
import { listSerialPorts } from './serial/index.js';
import { listUsbDevices } from './usb/index.js';
import { findElectronBinary, hasDisplay } from './system/electron.js';

function failed(err: unknown): ProbeResult {
  const e = toFlightDeckError(err);
  return { status: 'missing', summary: e.message, code: e.code, hint: e.hint };
}

export const keychainProbe: CapabilityProbe = {
  id: 'keychain',
  label: 'OS keychain',
  async run() {
    try {
      const store = await openSecretStore();
      return { status: 'ok', summary: `Secret storage works through ${store.backend}.` };
    } catch (err) {
      return failed(err);
    }
  },
};

export const serialProbe: CapabilityProbe = {
  id: 'serial',
  label: 'Serial ports',
  async run() {
    try {
      const ports = await listSerialPorts();
      return { status: 'ok', summary: `serialport works; ${ports.length} port(s) listed.` };
    } catch (err) {
      return failed(err);
    }
  },
};

export const usbProbe: CapabilityProbe = {
  id: 'usb',
  label: 'USB',
  async run() {
    try {
      const devices = listUsbDevices();
      return { status: 'ok', summary: `usb works; ${devices.length} device(s) attached.` };
    } catch (err) {
      return failed(err);
    }
  },
};

/**
 * The desktop app check. Inside Electron (the packaged app's api worker, or `npm run desktop`) the app is
 * running, so that is `ok` with Electron's version: there is no node_modules/electron binary to look
 * for in a packaged app. From the CLI or `flightdeck serve` it looks for the binary and a display.
 */
export function electronProbeFor(versions: NodeJS.ProcessVersions = process.versions): CapabilityProbe {
  return {
    id: 'electron',
    label: 'Desktop app (Electron)',
    async run() {
      const running = (versions as NodeJS.ProcessVersions & { electron?: string }).electron;
      if (running) return { status: 'ok', summary: `Running inside Electron ${running} (the desktop app).` };
      const bin = findElectronBinary();
      if (!bin.executable) {
        return {
          status: 'warn',
          code: 'ELECTRON_UNAVAILABLE',
          summary: `No Electron binary: ${bin.reason}. The same UI runs in a browser through \`flightdeck serve\`.`,
          hint: 'Where downloads work, fetch the binary with `node node_modules/electron/install.js`; here, `npm start` serves the same UI in a browser.',
        };
      }
      if (!hasDisplay()) {
        return {
          status: 'warn',
          code: 'ELECTRON_UNAVAILABLE',
          summary: `Electron is installed (${bin.executable}) but no display is available.`,
          hint: 'Set DISPLAY or WAYLAND_DISPLAY, run under Xvfb, or use `flightdeck serve`.',
        };
      }
      return { status: 'ok', summary: `Electron binary at ${bin.executable}.` };
    },
  };
}

export const electronProbe: CapabilityProbe = electronProbeFor();

/** The machine probes native-bridge offers (the registry probe lives in core: it needs only fetch). */
export const nativeProbes: CapabilityProbe[] = [keychainProbe, serialProbe, usbProbe, electronProbe];
