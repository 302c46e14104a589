/**
 * `lab deploy`: flash every device of the lab (or those named) with its locked payload through the fleet
 * engine (core/deploy/fleet.ts). Each device is asked first what it runs: one already running its locked
 * payload is skipped (`force` flashes it anyway); one that is offline or is not the kit the lab describes
 * fails on its own line and is never flashed. Receipts name the lab file, the lock's digest and the device.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import { mapLimit } from '../concurrency.js';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import { profileCheck } from '../deploy/check.js';
import { deployFleet, type DeployContext, type FleetEntry } from '../deploy/fleet.js';
import type { Payload } from '../deploy/payload.js';
import type { FleetEvent } from '../deploy/schema.js';
import type { Connection, RegistryAccess } from '../oci/access.js';
import { labPolicy, openBundle, pinnedReference, taggedReference } from './content.js';
import { deviceStatus, lockedPayload, resolveLabDevices, selectDevices, STATUS_CONCURRENCY, type LabPorts } from './devices.js';
import type { Lab } from './load.js';
import { readLock } from './lock.js';
import type { LabDeployEvent, LabDeployResult, LabDevice } from './schema.js';

export interface LabDeployOptions {
  devices?: string[] | undefined;
  force: boolean;
  /** Registry connection; `offline`: the content store only (an imported kit). */
  conn: Connection;
  concurrency: number;
  timeoutMs?: number | undefined;
  reconnect: number;
  signal?: AbortSignal | undefined;
  emit: (e: LabDeployEvent) => void;
}

export async function deployLab(lab: Lab, registry: RegistryAccess, ports: LabPorts, paths: FlightDeckPaths, opts: LabDeployOptions): Promise<LabDeployResult> {
  const { lock, ref } = await readLock(lab);
  const chosen = selectDevices(lab, opts.devices);
  const uris = await resolveLabDevices(lab, ports.finder);
  const entries = new Map<string, FleetEntry>();
  const skipped: string[] = [];
  const failEntry = (d: LabDevice, e: { code: string; message: string; hint: string }) => {
    opts.emit({ type: 'result', device: d.name, ok: false, code: e.code, error: e });
    entries.set(d.name, { device: d.name, ok: false, error: e });
  };

  // 1. What each device runs now.
  const statuses = await mapLimit(chosen, STATUS_CONCURRENCY, (d) =>
    deviceStatus(d, uris.get(d.name) ?? null, lock, ports, paths, opts.timeoutMs, opts.signal),
  );
  const todo: LabDevice[] = [];
  for (const [i, s] of statuses.entries()) {
    const d = chosen[i]!;
    if (s.state === 'offline' || s.state === 'unknown-device') failEntry(d, s.error!);
    else if (s.state === 'in-sync' && !opts.force) {
      skipped.push(d.name);
      opts.emit({ type: 'skip', device: d.name, sha256: s.locked.sha256 });
    } else todo.push(d);
  }

  // 2. The locked payloads, one bundle read per platform (pinned by digest: a moved tag changes nothing).
  const policy = await labPolicy(lab, paths);
  const payloads = new Map<string, Payload>();
  const groups = new Map<string, LabDevice[]>();
  for (const platform of [...new Set(todo.map((d) => d.platform))].sort()) {
    const devices = todo.filter((d) => d.platform === platform);
    try {
      const bundle = await openBundle(registry, pinnedReference(lab.source, platform, lock.bundles[platform]!.digest), policy, opts.conn, opts.signal);
      for (const d of devices) {
        const key = `${platform}\0${d.module ?? ''}`;
        if (!payloads.has(key)) {
          const p = await bundle.payload(d.module ?? '');
          const want = lockedPayload(lock, d).sha256;
          if (p.sha256 !== want) {
            throw new FlightDeckError('BLOB_DIGEST_MISMATCH', `${p.name} hashes to sha256:${p.sha256}, but the lock says sha256:${want}.`, {
              hint: 'The lock does not describe this bundle; run `flightdeck lab lock` again and review the change.',
            });
          }
          // The receipt names the tag the lab asked for beside the pinned digest (repo:tag@digest).
          const entry = lock.bundles[platform]!;
          payloads.set(key, p.source ? { ...p, source: { ...p.source, reference: taggedReference(lab.source, platform, entry.requested, entry.digest) } } : p);
        }
        groups.set(key, [...(groups.get(key) ?? []), d]);
      }
    } catch (err) {
      const e = toFlightDeckError(err);
      if (e.code === 'ABORTED') throw e;
      for (const d of devices) failEntry(d, { code: e.code, message: e.message, hint: e.hint });
    }
  }

  // 3. The fleet engine, once per payload.
  const byName = new Map(chosen.map((d) => [d.name, d]));
  const ctx: DeployContext<FleetEvent> = {
    paths,
    openTransport: ports.openTransport,
    emit: opts.emit,
    signal: opts.signal,
    resolve: (name) => ({ uri: uris.get(name)!, platform: byName.get(name)!.platform }),
    lab: { file: lab.file, lockDigest: ref.lockDigest },
  };
  const check = profileCheck(paths);
  await Promise.all(
    [...groups.entries()].map(async ([key, devices]) => {
      const fleet = await deployFleet(
        payloads.get(key)!,
        devices.map((d) => d.name),
        {
          platform: devices[0]!.platform,
          force: false,
          resume: true,
          run: false,
          compression: 'auto',
          delta: true,
          timeoutMs: opts.timeoutMs,
          reconnect: opts.reconnect,
          concurrency: opts.concurrency,
        },
        ctx,
        check,
      );
      for (const r of fleet.results) entries.set(r.device, r);
    }),
  );
  const results = chosen.filter((d) => entries.has(d.name)).map((d) => entries.get(d.name)!);
  const failed = results.filter((r) => !r.ok).length;
  return { ...ref, skipped, results, succeeded: results.length - failed, failed };
}
