/**
 * Where devices come from: attached hardware (DeviceFinder port), devices configured in
 * `<config>/devices.json`, and emulators that registered themselves in `<data>/emulators/` while running.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DeviceEntry, DevicesReport } from './schema.js';
import type { FlightDeckPaths } from '../config/paths.js';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import { knownAdapter } from './adapters.js';
import { formatDeviceUri, parseDeviceUri, type DeviceFinder } from './transport.js';

const ConfiguredDevices = z
  .object({
    devices: z.array(z.object({ name: z.string().min(1), uri: z.string().min(1), platform: z.string().optional() }).strict()),
  })
  .strict();

const Registration = z.object({ pid: z.number().int(), uri: z.string(), platform: z.string(), name: z.string(), stateDir: z.string() });
export type EmulatorRegistration = z.infer<typeof Registration>;

export function devicesFile(paths: FlightDeckPaths): string {
  return path.join(paths.config, 'devices.json');
}

function emulatorsDir(paths: FlightDeckPaths): string {
  return path.join(paths.data, 'emulators');
}

/** `<config>/devices.json`: `{"devices": [{"name", "uri", "platform"?}]}`; missing means none. */
export function configuredDevices(paths: FlightDeckPaths): DeviceEntry[] {
  const file = devicesFile(paths);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: z.infer<typeof ConfiguredDevices>;
  try {
    parsed = ConfiguredDevices.parse(JSON.parse(text));
  } catch (err) {
    const issue = err instanceof z.ZodError ? err.issues[0] : undefined;
    const where = issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : (err as Error).message;
    throw new FlightDeckError('CONFIG_INVALID', `${file}: ${where}`, {
      cause: err,
      hint: 'Expected {"devices": [{"name": "...", "uri": "serial:///dev/ttyUSB0?baud=921600", "platform": "dreamcast"}]}.',
    });
  }
  return parsed.devices.map((d) => ({ kind: 'configured', name: d.name, uri: d.uri, ...(d.platform ? { platform: d.platform } : {}) }));
}

/** Emulators whose process is still alive (stale registrations of killed ones are removed). */
export function runningEmulators(paths: FlightDeckPaths): EmulatorRegistration[] {
  const dir = emulatorsDir(paths);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const alive: EmulatorRegistration[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let reg: EmulatorRegistration | undefined;
    try {
      reg = Registration.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      reg = undefined;
    }
    if (reg && isAlive(reg.pid)) alive.push(reg);
    else rmSync(file, { force: true });
  }
  return alive;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Register a running emulator; returns the function that removes the registration. */
export function registerEmulator(paths: FlightDeckPaths, reg: EmulatorRegistration): () => void {
  const dir = emulatorsDir(paths);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${reg.pid}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(reg));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

/** Everything `flightdeck devices` shows; a source that fails is reported, not fatal. */
export async function listDevices(finder: DeviceFinder | undefined, paths: FlightDeckPaths): Promise<DevicesReport> {
  const report: DevicesReport = { devices: [], unavailable: [] };
  const fail = (source: 'serial' | 'usb' | 'configured', err: unknown) => {
    const e = toFlightDeckError(err);
    report.unavailable.push({ source, code: e.code, message: e.message, hint: e.hint });
  };
  if (finder) {
    try {
      for (const p of await finder.serialPorts()) {
        const adapter = knownAdapter(p.vendorId, p.productId);
        report.devices.push({
          kind: 'serial',
          uri: formatDeviceUri({ kind: 'serial', path: p.path, baud: 115200 }),
          ...(p.vendorId ? { vendorId: p.vendorId } : {}),
          ...(p.productId ? { productId: p.productId } : {}),
          ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
          ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
          ...(adapter ? { adapter } : {}),
        });
      }
    } catch (err) {
      fail('serial', err);
    }
    try {
      for (const d of await finder.usbDevices()) {
        const adapter = knownAdapter(d.vendorId, d.productId);
        report.devices.push({
          kind: 'usb',
          uri: formatDeviceUri({ kind: 'usb', vendorId: parseInt(d.vendorId, 16), productId: parseInt(d.productId, 16), serial: undefined }),
          vendorId: d.vendorId,
          productId: d.productId,
          ...(adapter ? { adapter } : {}),
        });
      }
    } catch (err) {
      fail('usb', err);
    }
  }
  try {
    report.devices.push(...configuredDevices(paths));
  } catch (err) {
    fail('configured', err);
  }
  for (const e of runningEmulators(paths)) {
    report.devices.push({ kind: 'emulator', name: e.name, uri: e.uri, platform: e.platform });
  }
  return report;
}

/** A URI as given, or the URI of the configured device or running emulator with that name. */
export function resolveDevice(ref: string, paths: FlightDeckPaths): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return formatDeviceUri(parseDeviceUri(ref)); // a URI: checked here
  const named = [...configuredDevices(paths), ...runningEmulators(paths).map((e) => ({ name: e.name, uri: e.uri }))].find((d) => d.name === ref);
  if (!named) {
    throw new FlightDeckError('DEVICE_NOT_FOUND', `No device named ${JSON.stringify(ref)} (configured in ${devicesFile(paths)} or a running emulator).`, {
      hint: 'Pass a URI (serial:///dev/ttyUSB0?baud=921600, usb://VID:PID, tcp://host:port) or run `flightdeck devices` for names.',
    });
  }
  return named.uri;
}

/** Known devices of one platform (configured with that platform, or running emulators of it), by name. */
export function devicesOfPlatform(platform: string, paths: FlightDeckPaths): string[] {
  const known = [...configuredDevices(paths), ...runningEmulators(paths).map((e) => ({ name: e.name, uri: e.uri, platform: e.platform }))];
  const refs = known.filter((d) => d.platform === platform).map((d) => d.name ?? d.uri);
  if (refs.length === 0) {
    throw new FlightDeckError(
      'DEVICE_NOT_FOUND',
      `No known ${platform} device (configured in ${devicesFile(paths)} with that platform, or a running emulator).`,
      {
        hint: 'Give devices with --device, add them with their platform to devices.json, or check the platform id with `flightdeck devices`.',
      },
    );
  }
  return refs;
}

/** The platform a named device is listed with (devices.json or an emulator's registration), if any. */
export function declaredPlatform(ref: string, paths: FlightDeckPaths): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return undefined;
  return [...configuredDevices(paths), ...runningEmulators(paths)].find((d) => d.name === ref)?.platform;
}
