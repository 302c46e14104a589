import type { AreaHandlers, ApiContext } from '../service.js';
import type { CallContext } from '../dispatch.js';
import { FlightDeckError, toFlightDeckError } from '../../errors.js';
import { deploy, type DeployOptions, type DeployResult } from '../../deploy/deploy.js';
import { declaredPlatform, devicesOfPlatform, listDevices, resolveDevice } from '../../deploy/devices.js';
import { listReceipts, makeReceipt, saveSession, sessionsDir, writeReceipt, type SessionRecord } from '../../deploy/receipts.js';
import type { DeployEvent, FleetEntry, Receipt } from '../contracts/deploy.js';
import type { z } from 'zod';
import type { deployContract } from '../contracts/deploy.js';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadPayload, payloadFromBytes, type Payload } from '../../deploy/payload.js';
import { MEDIA } from '../../oci/manifest.js';
import { isRegistryReference, parseDigest, parseReference } from '../../oci/reference.js';
import { checkSignaturePolicy, loadPolicy } from '../../kits/signatures.js';
import { HostSession, type SessionTimings } from '../../deploy/session.js';
import { parseDeviceUri, type ByteTransport, type DeviceFinder, type TransportOpener } from '../../deploy/transport.js';
import { profileCheck, type PayloadCheck } from '../../deploy/check.js';

/** Largest layer deploy reads into memory (the device protocol takes payloads far smaller than this). */
const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

/** The ports deploy needs from the composition root (native-bridge implements them). */
export interface DeployPorts {
  openTransport: TransportOpener;
  finder: DeviceFinder;
}

type DeployMethods = 'deploy.run' | 'deploy.fleet' | 'receipts.list' | 'devices.list' | 'device.status' | 'device.rollback' | 'device.monitor';
type DeployInput = Omit<z.infer<(typeof deployContract)['deploy.run']['input']>, 'device'>;

export function deployHandlers(ctx: ApiContext): AreaHandlers<DeployMethods> {
  const { paths } = ctx;
  const ports = (): DeployPorts => {
    if (!ctx.deps.deploy) throw new FlightDeckError('INTERNAL', 'This front end was started without device support (no deploy ports).');
    return ctx.deps.deploy;
  };
  const open = async (ref: string): Promise<{ uri: string; transport: ByteTransport }> => {
    const uri = resolveDevice(ref, paths);
    return { uri, transport: await ports().openTransport(parseDeviceUri(uri)) };
  };
  /**
   * A file path, or a registry / `oci:` reference pulled into the verified content store first: its WASM
   * layer, or its bundle layer (one module picked with `module`).
   */
  const resolvePayload = async (ref: string, module: string | undefined, offline: boolean, signal: AbortSignal | undefined): Promise<Payload> => {
    if (!ref.startsWith('oci:') && !(isRegistryReference(ref) && !existsSync(ref))) return loadPayload(ref, module);
    const conn = { offline };
    // Not hashed on pull's skip path: the layer is read (and verified) from the store just below.
    const pulled = await ctx.registry.pullToStore(ref, conn, { signal, verifyExisting: false });
    // The signature policy (docs/kits.md) applies to what comes from a registry, as for `kit build`.
    const parsed = parseReference(ref);
    if (parsed.kind === 'registry') await checkSignaturePolicy(ctx.registry, await loadPolicy(paths), parsed, pulled.digest, conn);
    const wasmLayer = pulled.layers.find((l) => ([MEDIA.wasmLayer, MEDIA.wasm] as string[]).includes(l.mediaType));
    const layer = module ? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip) : (wasmLayer ?? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip));
    if (!layer) {
      throw new FlightDeckError('PAYLOAD_INVALID', `${ref} holds no WASM module or tar+gzip bundle layer to deploy.`, {
        hint: 'Deploy a wasm/<name> or bundles/<platform> artifact, e.g. flight/shared-types/bundles/vita:latest.',
        details: { reference: ref },
      });
    }
    // Read into memory and verified (BLOB_CORRUPT, quarantined) before anything reaches a device.
    if (layer.size > MAX_PAYLOAD_BYTES) {
      throw new FlightDeckError('PAYLOAD_INVALID', `${ref}: layer ${layer.digest} is ${layer.size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte payload cap.`, { details: { reference: ref } });
    }
    const bytes = await pulled.store.readBlobVerified(layer, MAX_PAYLOAD_BYTES);
    const { algorithm, hex } = parseDigest(layer.digest);
    const p = await payloadFromBytes(bytes, pulled.store.blobPath(layer.digest), module, algorithm === 'sha256' ? hex : undefined);
    const inside = p.name.includes('!') ? p.name.slice(p.name.indexOf('!')) : '';
    return { ...p, name: `${ref}${inside}`, source: { reference: pulled.reference, manifestDigest: pulled.digest } };
  };
  const timings = (timeoutMs: number | undefined): Partial<SessionTimings> => (timeoutMs ? { replyMs: timeoutMs } : {});
  /** A session for one short request; always closed. */
  const withSession = async <T>(ref: string, timeoutMs: number | undefined, call: CallContext, fn: (s: HostSession, uri: string) => Promise<T>): Promise<T> => {
    const { uri, transport } = await open(ref);
    const session = await HostSession.open(transport, { timings: timings(timeoutMs), ...(call.signal ? { signal: call.signal } : {}) });
    try {
      return await fn(session, uri);
    } finally {
      await session.close().catch(() => {});
    }
  };

  /**
   * Deploy to one device and write its receipt; with `run`, the payload's log is saved as a session
   * linked from the receipt. `tag` adds `device` to every event (fleet deploys).
   */
  const deployOne = async (payload: Payload, ref: string, input: DeployInput, call: CallContext<'deploy.run' | 'deploy.fleet'>, tag: boolean, check: PayloadCheck): Promise<DeployResult & { receipt: Receipt; receiptFile: string }> => {
    const emit = (e: DeployEvent) => call.emit(tag ? { ...e, device: ref } : e);
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
      timings: timings(input.timeoutMs),
      ...(call.signal ? { signal: call.signal } : {}),
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
    const attempt = async () => deploy(payload, await ports().openTransport(parseDeviceUri(uri)), check, { ...opts, ...(serial ? { serial } : {}) });
    // Reconnect only to a device seen before (its serial number), and never once its payload runs.
    const window = () => (serial && phase !== 'run' ? input.reconnect * 1000 : 0);
    const result = await withReconnect(attempt, window, () => connects, call.signal, () => emit({ type: 'phase', phase: 'reconnect' }));
    const receipt = makeReceipt(result, payload, { uri, name: uri === ref ? null : ref });
    if (input.run) {
      const file = path.join(sessionsDir(paths), `${receipt.id}.jsonl`);
      receipt.session = await saveSession(file, { device: uri, receipt: receipt.id, payloadSha256: payload.sha256, lines: session });
      receipt.exitCode = result.exitCode ?? null;
    }
    return { ...result, receipt, receiptFile: await writeReceipt(paths, receipt) };
  };

  return {
    async 'deploy.run'(input, call) {
      const payload = await resolvePayload(input.payload, input.module, Boolean(input.offline), call.signal);
      return deployOne(payload, input.device, input, call, false, profileCheck(paths));
    },
    async 'deploy.fleet'(input, call) {
      // Each device once, even when named and given by URI (an unknown name fails on its own line).
      const byUri = new Map<string, string>();
      for (const ref of [...input.devices, ...(input.allMatching ? devicesOfPlatform(input.allMatching, paths) : [])]) {
        let key = ref;
        try {
          key = resolveDevice(ref, paths);
        } catch {
          // reported by deployOne
        }
        if (!byUri.has(key)) byUri.set(key, ref);
      }
      const refs = [...byUri.values()];
      if (refs.length === 0) {
        throw new FlightDeckError('USAGE', 'No devices to deploy to.', { hint: 'Give --device URI (repeatable) or --all-matching PLATFORM.' });
      }
      const payload = await resolvePayload(input.payload, input.module, Boolean(input.offline), call.signal);
      // One payload: check it once per platform, not once per device.
      const checks = new Map<string, ReturnType<PayloadCheck>>();
      const check: PayloadCheck = (bytes, platform) => checks.get(platform) ?? checks.set(platform, profileCheck(paths)(bytes, platform)).get(platform)!;
      const results = await mapLimit(refs, input.concurrency, async (ref): Promise<FleetEntry> => {
        try {
          const result = await deployOne(payload, ref, input, call, true, check);
          call.emit({ type: 'result', device: ref, ok: true });
          return { device: ref, ok: true, result };
        } catch (err) {
          const e = toFlightDeckError(err);
          call.emit({ type: 'result', device: ref, ok: false, code: e.code, error: { code: e.code, message: e.message, hint: e.hint } });
          return { device: ref, ok: false, error: { code: e.code, message: e.message, hint: e.hint } };
        }
      });
      const failed = results.filter((r) => !r.ok).length;
      if (call.signal?.aborted) {
        throw new FlightDeckError('ABORTED', `Fleet deploy cancelled; ${results.length - failed} device(s) had committed (their receipts are kept).`);
      }
      return { payload: payload.name, sha256: payload.sha256, results, succeeded: results.length - failed, failed };
    },
    async 'receipts.list'(input) {
      return { receipts: await listReceipts(paths, input.device) };
    },
    async 'devices.list'() {
      return listDevices(ctx.deps.deploy?.finder, paths);
    },
    async 'device.status'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => ({ device: uri, info: s.info, state: await s.status() }));
    },
    async 'device.rollback'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => ({ device: uri, state: await s.rollback() }));
    },
    async 'device.monitor'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => {
        const lines: SessionRecord['lines'] = [];
        // A saved session names the payload the device runs (asked first: Ctrl+C ends the session's signal).
        const state = input.save ? await s.status() : undefined;
        try {
          await s.monitor(input.follow, (line) => {
            lines.push({ time: new Date().toISOString(), ...line });
            call.emit({ type: 'log', ...line });
          });
        } catch (err) {
          // Following ends when the user stops it or the device goes away; both are a normal end.
          if (!(input.follow && err instanceof FlightDeckError && (err.code === 'ABORTED' || err.code === 'DEVICE_DISCONNECTED'))) throw err;
        }
        if (!input.save) return { device: uri, lines: lines.length };
        // Link the session to the deploy that put the active payload there (its newest receipt).
        const active = state?.active ? state.slots[state.active]?.sha256 : undefined;
        const receipt = active ? (await listReceipts(paths, uri)).find((r) => r.payload.sha256 === active) : undefined;
        const saved = await saveSession(input.save, { device: uri, receipt: receipt?.id ?? null, payloadSha256: active ?? null, lines });
        return { device: uri, lines: lines.length, saved };
      });
    },
  };
}

const LOST: string[] = ['DEVICE_DISCONNECTED', 'DEVICE_TIMEOUT', 'DEVICE_NOT_FOUND', 'SERIAL_UNAVAILABLE'];

/**
 * Run `attempt`; when the device goes away after it was seen (`windowMs()` > 0), try again every 500 ms
 * until it comes back or the window since the cut has passed (a new window after each time it answered
 * again: `connects()` counts handshakes). The device resumes from its durable mark.
 */
async function withReconnect<T>(
  attempt: () => Promise<T>,
  windowMs: () => number,
  connects: () => number,
  signal: AbortSignal | undefined,
  onRetry: () => void,
): Promise<T> {
  let deadline: number | undefined;
  let seen = connects();
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (connects() !== seen) {
        seen = connects();
        deadline = undefined;
      }
      deadline ??= Date.now() + windowMs();
      if (!(err instanceof FlightDeckError) || !LOST.includes(err.code) || Date.now() >= deadline || signal?.aborted) throw err;
      onRetry();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Run `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
