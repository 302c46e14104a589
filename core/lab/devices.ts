/**
 * A lab's devices on the wire: each one's URI (given, or found by the serial number of an attached
 * serial adapter), and what it runs now (the device's own hash of its active slot), compared with the lock.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { mapLimit } from '../concurrency.js';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import { listReceipts } from '../deploy/receipts.js';
import type { Receipt } from '../deploy/schema.js';
import { HostSession } from '../deploy/session.js';
import { DEFAULT_BAUD, formatDeviceUri, parseDeviceUri, type DeviceFinder, type TransportOpener } from '../deploy/transport.js';
import { sessionTimings } from '../deploy/fleet.js';
import type { Lab } from './load.js';
import type { LabDevice, LabDeviceStatus, LabLock, LabRef, LabStatusResult } from './schema.js';

/** How many kits are asked at once (each answer is one small request). */
export const STATUS_CONCURRENCY = 16;

export interface LabPorts {
  openTransport: TransportOpener;
  finder: DeviceFinder | undefined;
}

/** URIs of the lab's devices: the one given, or the serial adapter reporting its serial number; null when not attached. */
export async function resolveLabDevices(lab: Lab, finder: DeviceFinder | undefined): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const needFinder = lab.doc.devices.some((d) => !d.uri);
  const ports = needFinder && finder ? await finder.serialPorts().catch(() => []) : [];
  for (const d of lab.doc.devices) {
    if (d.uri) out.set(d.name, formatDeviceUri(parseDeviceUri(d.uri)));
    else {
      const port = ports.find((p) => p.serialNumber === d.serialNumber);
      out.set(d.name, port ? formatDeviceUri({ kind: 'serial', path: port.path, baud: DEFAULT_BAUD }) : null);
    }
  }
  return out;
}

/** The locked payload of a device. */
export function lockedPayload(lock: LabLock, d: LabDevice): { sha256: string; file: string; digest: string; reference: string } {
  const b = lock.bundles[d.platform]!;
  const p = b.payloads[d.module ?? '']!;
  return { sha256: p.sha256, file: p.file, digest: b.digest, reference: b.reference };
}

/** What a device runs instead, from its newest receipt with that hash (by URI or serial number). */
function runsFrom(receipts: Receipt[], sha256: string | null): LabDeviceStatus['runs'] {
  const r = sha256 ? receipts.find((x) => x.payload.sha256 === sha256) : undefined;
  return {
    sha256,
    payload: r?.payload.name ?? null,
    reference: r?.source?.reference ?? null,
    receipt: r?.id ?? null,
    time: r?.time ?? null,
    operator: r?.operator ?? null,
    lockDigest: r?.lab?.lockDigest ?? null,
  };
}

/** Ask one device what it runs; never throws for the device's own failures (offline / unknown-device). */
export async function deviceStatus(
  d: LabDevice,
  uri: string | null,
  lock: LabLock,
  ports: LabPorts,
  paths: FlightDeckPaths,
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<LabDeviceStatus> {
  const locked = lockedPayload(lock, d);
  const base = { name: d.name, platform: d.platform, uri, locked: { sha256: locked.sha256, file: locked.file, digest: locked.digest } };
  const fail = (state: 'offline' | 'unknown-device', e: FlightDeckError): LabDeviceStatus => ({
    ...base,
    state,
    runs: null,
    error: { code: e.code, message: e.message, hint: e.hint },
    serial: null,
    device: null,
  });
  if (!uri) {
    return fail(
      'offline',
      new FlightDeckError('DEVICE_NOT_FOUND', `${d.name}: no attached serial adapter reports serial number ${d.serialNumber ?? ''}.`, {
        hint: 'Attach the kit, or give its uri in the lab file.',
      }),
    );
  }
  let session: HostSession;
  try {
    session = await HostSession.open(await ports.openTransport(parseDeviceUri(uri)), { timings: sessionTimings(timeoutMs), ...(signal ? { signal } : {}) });
  } catch (err) {
    const e = toFlightDeckError(err);
    if (e.code === 'ABORTED') throw e;
    return fail(e.code === 'DEVICE_PROTOCOL_ERROR' ? 'unknown-device' : 'offline', e);
  }
  try {
    const serial = session.info.serial ?? null;
    if (session.info.platform !== d.platform) {
      return fail(
        'unknown-device',
        new FlightDeckError('DEVICE_PLATFORM_MISMATCH', `${d.name}: the kit at ${uri} reports platform ${session.info.platform}, not ${d.platform}.`, {
          hint: 'Check which kit is on that port, then fix the lab file.',
        }),
      );
    }
    if (d.serialNumber && serial !== d.serialNumber) {
      return fail(
        'unknown-device',
        new FlightDeckError('DEVICE_CHANGED', `${d.name}: the kit at ${uri} reports serial number ${serial ?? '(none)'}, not ${d.serialNumber}.`, {
          hint: 'Another kit answers on that port; check the cabling, or fix serialNumber in the lab file.',
        }),
      );
    }
    const state = await session.status();
    // The device's own hash of the slot when it offers one; else the hash it recorded at commit.
    const active = state.activeHash ?? (state.active ? (state.slots[state.active]?.sha256 ?? null) : null);
    const inSync = active === locked.sha256;
    const receipts = inSync ? [] : [...(await listReceipts(paths, uri)), ...(serial ? await listReceipts(paths, serial) : [])];
    receipts.sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
    return { ...base, state: inSync ? 'in-sync' : 'drifted', runs: inSync ? null : runsFrom(receipts, active), error: null, serial, device: state };
  } catch (err) {
    const e = toFlightDeckError(err);
    if (e.code === 'ABORTED') throw e;
    return fail('offline', e);
  } finally {
    await session.close().catch(() => {});
  }
}

/** `lab status`: every device (or those named) asked at once, in the lab file's order. */
export async function labStatus(
  lab: Lab,
  lock: LabLock,
  ref: LabRef,
  ports: LabPorts,
  paths: FlightDeckPaths,
  opts: { devices?: string[] | undefined; timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
): Promise<LabStatusResult> {
  const chosen = selectDevices(lab, opts.devices);
  const uris = await resolveLabDevices(lab, ports.finder);
  const devices = await mapLimit(chosen, STATUS_CONCURRENCY, (d) => deviceStatus(d, uris.get(d.name) ?? null, lock, ports, paths, opts.timeoutMs, opts.signal));
  const counts = { 'in-sync': 0, drifted: 0, offline: 0, 'unknown-device': 0 };
  for (const d of devices) counts[d.state]++;
  return { ...ref, devices, counts };
}

/** The lab's devices, or those named (USAGE for a name the lab does not list). */
export function selectDevices(lab: Lab, names: string[] | undefined): LabDevice[] {
  if (!names?.length) return lab.doc.devices;
  const unknown = names.filter((n) => !lab.doc.devices.some((d) => d.name === n));
  if (unknown.length) {
    throw new FlightDeckError('USAGE', `The lab ${lab.file} has no device named ${unknown.map((n) => JSON.stringify(n)).join(', ')}.`, {
      hint: `Its devices: ${lab.doc.devices.map((d) => d.name).join(', ')}.`,
    });
  }
  return lab.doc.devices.filter((d) => names.includes(d.name));
}
