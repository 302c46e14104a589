/**
 * Deploy as the api runs it: to one device (receipt, saved session, reconnect after a cut) and to a fleet
 * (each device once, bounded concurrency, one failing device never stops the others).
 */
import type { DeployEvent, FleetEvent } from './schema.js';
import path from 'node:path';
import type { FlightDeckPaths } from '../config/paths.js';
import { mapLimit } from '../concurrency.js';
import { FlightDeckError, toFlightDeckError } from '../errors.js';
import type { PayloadCheck } from './check.js';
import { deploy, type DeployOptions, type DeployResult } from './deploy.js';
import { declaredPlatform, devicesOfPlatform, resolveDevice } from './devices.js';
import type { Payload } from './payload.js';
import { makeReceipt, saveSession, sessionsDir, writeReceipt, type SessionRecord } from './receipts.js';
import { withReconnect } from './reconnect.js';
import type { SessionTimings } from './session.js';
import { parseDeviceUri, type TransportOpener } from './transport.js';

/** What the caller asked of one deploy (the api's deploy options). */
export interface DeployRequest {
  platform?: string | undefined;
  force: boolean;
  resume: boolean;
  run: boolean;
  compression: DeployOptions['compression'];
  delta: boolean;
  lineRate?: number | undefined;
  timeoutMs?: number | undefined;
  /** Seconds to wait for a device that went away mid-deploy to come back and resume; 0: off. */
  reconnect: number;
}

/** An event of a running deploy (phase, progress, log) or, on fleet deploys, the same tagged with `device`, and each device's result. */
export type { DeployEvent, FleetEvent };

/** What a deploy runs with; `emit` takes exactly the events of the call it serves (deploy.run: DeployEvent, deploy.fleet: FleetEvent). */
export interface DeployContext<E = DeployEvent> {
  paths: FlightDeckPaths;
  openTransport: TransportOpener;
  emit: (event: E) => void;
  signal?: AbortSignal | undefined;
}

type Receipt = ReturnType<typeof makeReceipt>;
export type DeviceDeployResult = DeployResult & { receipt: Receipt; receiptFile: string };

export type FleetEntry =
  { device: string; ok: true; result: DeviceDeployResult } | { device: string; ok: false; error: { code: string; message: string; hint: string } };

/** Session timings from a request's `timeoutMs` (the reply timeout); unset: the defaults. */
export function sessionTimings(timeoutMs: number | undefined): Partial<SessionTimings> {
  return timeoutMs ? { replyMs: timeoutMs } : {};
}

/**
 * Deploy to one device and write its receipt; with `run`, the payload's log is saved as a session
 * linked from the receipt. Fleet deploys hand in an `emit` that tags each event with its device.
 */
export async function deployToDevice(
  payload: Payload,
  ref: string,
  input: DeployRequest,
  ctx: DeployContext,
  check: PayloadCheck,
): Promise<DeviceDeployResult> {
  const { paths, emit } = ctx;
  const uri = resolveDevice(ref, paths);
  const listedAs = declaredPlatform(ref, paths);
  const session: SessionRecord['lines'] = [];
  let serial: string | undefined;
  let connects = 0;
  let phase = '';
  const opts: DeployOptions = {
    ...(input.platform ? { platform: input.platform } : {}),
    ...(listedAs ? { devicePlatform: listedAs } : {}),
    force: input.force,
    resume: input.resume,
    run: input.run,
    compression: input.compression,
    delta: input.delta,
    ...(input.lineRate ? { lineRate: input.lineRate } : {}),
    timings: sessionTimings(input.timeoutMs),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onDevice: (info) => {
      serial ??= info.serial;
      connects++;
    },
    onPhase: (p) => {
      phase = p;
      emit({ type: 'phase', phase: p });
    },
    onProgress: (p) => emit({ type: 'progress', phase: 'upload', ...p }),
    onLog: (line) => {
      session.push({ time: new Date().toISOString(), ...line });
      emit({ type: 'log', ...line });
    },
  };
  const attempt = async () => deploy(payload, await ctx.openTransport(parseDeviceUri(uri)), check, { ...opts, ...(serial ? { serial } : {}) });
  // Reconnect only to a device seen before (its serial number), and never once its payload runs.
  const window = () => (serial && phase !== 'run' ? input.reconnect * 1000 : 0);
  const result = await withReconnect(
    attempt,
    window,
    () => connects,
    ctx.signal,
    () => emit({ type: 'phase', phase: 'reconnect' }),
  );
  const receipt = makeReceipt(result, payload, { uri, name: uri === ref ? null : ref });
  if (input.run) {
    const file = path.join(sessionsDir(paths), `${receipt.id}.jsonl`);
    receipt.session = await saveSession(file, { device: uri, receipt: receipt.id, payloadSha256: payload.sha256, lines: session });
    receipt.exitCode = result.exitCode ?? null;
  }
  return { ...result, receipt, receiptFile: await writeReceipt(paths, receipt) };
}

/**
 * The devices of a fleet deploy: those given and every known one of `allMatching`'s platform, each once
 * even when named and given by URI (an unknown name is kept: it fails on its own line). USAGE when none.
 */
export function fleetTargets(devices: readonly string[], allMatching: string | undefined, paths: FlightDeckPaths): string[] {
  const byUri = new Map<string, string>();
  for (const ref of [...devices, ...(allMatching ? devicesOfPlatform(allMatching, paths) : [])]) {
    let key = ref;
    try {
      key = resolveDevice(ref, paths);
    } catch {
      // reported by deployToDevice
    }
    if (!byUri.has(key)) byUri.set(key, ref);
  }
  const refs = [...byUri.values()];
  if (refs.length === 0) {
    throw new FlightDeckError('USAGE', 'No devices to deploy to.', { hint: 'Give --device URI (repeatable) or --all-matching PLATFORM.' });
  }
  return refs;
}

/**
 * Deploy one payload to `refs`, at most `concurrency` at a time; each device's outcome is a `result` event
 * and an entry (in the order of `refs`). The payload is checked once per platform, not once per device.
 * ABORTED when cancelled (the receipts of devices that committed are kept).
 */
export async function deployFleet(
  payload: Payload,
  refs: readonly string[],
  input: DeployRequest & { concurrency: number },
  ctx: DeployContext<FleetEvent>,
  check: PayloadCheck,
): Promise<{ payload: string; sha256: string; results: FleetEntry[]; succeeded: number; failed: number }> {
  const checks = new Map<string, ReturnType<PayloadCheck>>();
  const once: PayloadCheck = (bytes, platform) => checks.get(platform) ?? checks.set(platform, check(bytes, platform)).get(platform)!;
  const results = await mapLimit(refs, input.concurrency, async (ref): Promise<FleetEntry> => {
    try {
      const tagged: DeployContext = { ...ctx, emit: (e) => ctx.emit({ ...e, device: ref }) };
      const result = await deployToDevice(payload, ref, input, tagged, once);
      ctx.emit({ type: 'result', device: ref, ok: true });
      return { device: ref, ok: true, result };
    } catch (err) {
      const e = toFlightDeckError(err);
      ctx.emit({ type: 'result', device: ref, ok: false, code: e.code, error: { code: e.code, message: e.message, hint: e.hint } });
      return { device: ref, ok: false, error: { code: e.code, message: e.message, hint: e.hint } };
    }
  });
  const failed = results.filter((r) => !r.ok).length;
  if (ctx.signal?.aborted) {
    throw new FlightDeckError('ABORTED', `Fleet deploy cancelled; ${results.length - failed} device(s) had committed (their receipts are kept).`);
  }
  return { payload: payload.name, sha256: payload.sha256, results, succeeded: results.length - failed, failed };
}
