/**
 * `deploy`: check, upload (resuming), verify, commit and optionally run one payload on one device.
 */
import { FlightDeckError } from '../errors.js';
import { checkLimits, type CheckResult, type Finding, type PayloadCheck } from './check.js';
import { sha256, type Payload } from './payload.js';
import { FEATURES, PROTOCOL_CONSTANTS as C, type Compression, type DeviceInfo, type DeviceState, type LogLine } from './protocol.js';
import { HostSession, type DeltaPlan, type SessionTimings, type UploadProgress, type UploadResult } from './session.js';
import type { ByteTransport } from './transport.js';

export type DeployPhase = 'connect' | 'reconnect' | 'check' | 'line-rate' | 'upload' | 'verify' | 'commit' | 'run';

export interface DeployOptions {
  /** Platform the payload is meant for; refused when the device reports another. Bundles carry their own. */
  platform?: string;
  /** Serial number the device must report (a reconnect after a cut): another one is refused, nothing sent. */
  serial?: string;
  /** Called with the device's INFO after the handshake. */
  onDevice?: (info: DeviceInfo) => void;
  /** Platform the device is listed with (devices.json); refused when it reports another (a mislabelled kit). */
  devicePlatform?: string;
  /** Send even when the payload check fails (the device still enforces its limits). */
  force: boolean;
  /** Continue a partial upload the device holds (default); false starts over. */
  resume: boolean;
  run: boolean;
  compression: Compression | 'auto';
  /** Fast reflash when the device offers block hashes (default true); false always sends the whole payload. */
  delta?: boolean;
  /** Serial: line rate to switch to after the handshake (falls back when it fails). */
  lineRate?: number;
  timings?: Partial<SessionTimings>;
  blockSize?: number;
  window?: number;
  signal?: AbortSignal;
  onPhase?: (phase: DeployPhase) => void;
  onProgress?: (progress: UploadProgress) => void;
  onLog?: (line: LogLine) => void;
}

export interface DeployResult {
  device: string;
  platform: string;
  /** Identity the device reported in INFO. */
  serial?: string;
  firmware: string;
  payload: string;
  sha256: string;
  size: number;
  slot: 'A' | 'B';
  /** `committed`: switched to the new payload; `already-active`: the device was already running it. */
  outcome: 'committed' | 'already-active';
  /** `delta`: only differing blocks were sent; `full-after-delta`: the delta failed and the whole payload went. */
  transfer: 'full' | 'delta' | 'full-after-delta';
  resumedFrom: number;
  retries: number;
  wireBytes: number;
  seconds: number;
  lineRate: number;
  compression: Compression;
  /** Check findings overridden with --force. */
  findings: Finding[];
  state: DeviceState;
  exitCode?: number;
}

export async function deploy(payload: Payload, transport: ByteTransport, check: PayloadCheck, opts: DeployOptions): Promise<DeployResult> {
  const started = Date.now();
  const target = opts.platform ?? payload.platform;
  if (opts.platform && payload.platform && opts.platform !== payload.platform) {
    await transport.close();
    throw new FlightDeckError('DEVICE_PLATFORM_MISMATCH', `${payload.name} is built for ${payload.platform}, not ${opts.platform}.`);
  }
  opts.onPhase?.('connect');
  const session = await HostSession.open(transport, { ...(opts.timings ? { timings: opts.timings } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    const info = session.info;
    opts.onDevice?.(info);
    if (opts.serial && info.serial !== opts.serial) {
      throw new FlightDeckError(
        'DEVICE_CHANGED',
        `${session.description} now reports serial number ${info.serial ?? '(none)'}, not ${opts.serial}. Nothing was sent.`,
        {
          details: { expected: opts.serial, found: info.serial ?? null },
        },
      );
    }
    if (opts.devicePlatform && opts.devicePlatform !== info.platform) {
      throw new FlightDeckError(
        'DEVICE_PLATFORM_MISMATCH',
        `${session.description} is listed as a ${opts.devicePlatform} device but reports ${info.platform}. Nothing was sent.`,
        { hint: 'Check which kit is on that port, then fix its platform in devices.json.', details: { device: info.platform, listed: opts.devicePlatform } },
      );
    }
    if (target && target !== info.platform) {
      throw new FlightDeckError(
        'DEVICE_PLATFORM_MISMATCH',
        `${session.description} is a ${info.platform} device; ${payload.name} is for ${target}. Nothing was sent.`,
        { details: { device: info.platform, payload: target } },
      );
    }
    opts.onPhase?.('check');
    const checked = mergeChecks(await check(payload.bytes, info.platform), await deviceLimitsCheck(payload.bytes, info, session.description));
    if (!checked.ok && !opts.force) {
      throw new FlightDeckError(
        'PAYLOAD_CHECK_FAILED',
        `${payload.name} does not fit ${info.platform} (${session.description}); nothing was sent:\n${checked.findings.map((f) => `  - [${f.rule}] ${f.message}`).join('\n')}`,
        { details: { findings: checked.findings } },
      );
    }
    let lineRate = info.lineRate;
    if (opts.lineRate) {
      opts.onPhase?.('line-rate');
      lineRate = await session.switchLineRate(opts.lineRate);
    }
    const compression = pickCompression(opts.compression, info.compression, info.lineRate, session.description);
    const features = info.features ?? [];
    const plan = opts.delta !== false && features.includes(FEATURES.blockHashes) ? await planDelta(session, payload, opts.resume) : undefined;
    /** Upload (all of it, or the plan's blocks) and have the device verify the whole payload. */
    const send = async (delta?: DeltaPlan): Promise<UploadResult> => {
      opts.onPhase?.('upload');
      const up = await session.upload(payload.bytes, payload.sha256, {
        compression,
        fresh: !opts.resume,
        ...(delta ? { delta } : {}),
        ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
        ...(opts.window ? { window: opts.window } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      if (up.state !== 'active') {
        opts.onPhase?.('verify');
        await session.verify(payload.sha256, payload.bytes.length, up.upload);
      }
      return up;
    };
    let transfer: DeployResult['transfer'] = plan ? 'delta' : 'full';
    let up: UploadResult;
    try {
      up = await send(plan);
    } catch (err) {
      // Any mismatch of a fast reflash (base gone, blocks wrong, hash off): send the whole payload instead.
      if (!plan || !(err instanceof FlightDeckError) || !['DEVICE_VERIFY_FAILED', 'DEVICE_REFUSED'].includes(err.code)) throw err;
      transfer = 'full-after-delta';
      up = await send();
    }
    let state: DeviceState;
    if (up.state === 'active') {
      state = await session.status();
    } else {
      opts.onPhase?.('commit');
      state = await session.commit(payload.sha256, up.upload);
    }
    const result: DeployResult = {
      device: session.description,
      platform: info.platform,
      ...(info.serial ? { serial: info.serial } : {}),
      firmware: info.firmware,
      payload: payload.name,
      sha256: payload.sha256,
      size: payload.bytes.length,
      slot: up.slot,
      outcome: up.state === 'active' ? 'already-active' : 'committed',
      transfer: up.state === 'active' ? 'full' : transfer,
      resumedFrom: up.resumedFrom,
      retries: up.retries,
      wireBytes: up.wireBytes,
      seconds: (Date.now() - started) / 1000,
      lineRate,
      compression,
      findings: checked.ok ? [] : checked.findings,
      state,
    };
    if (opts.run) {
      opts.onPhase?.('run');
      result.exitCode = await session.run(opts.onLog ?? (() => {}));
    }
    return result;
  } finally {
    await session.close().catch(() => {});
  }
}

/**
 * The limits the device itself announced in INFO (memory in bytes, threads), checked as the device will
 * check them at END (checkLimits) plus its refusal of a payload larger than its memory at BEGIN: the
 * built-in profile may be more generous than this kit (a smaller model, a firmware that reserves more),
 * and nothing the device would refuse is sent.
 */
async function deviceLimitsCheck(bytes: Buffer, info: DeviceInfo, description: string): Promise<CheckResult> {
  const name = `${description} (INFO: ${info.memory} bytes, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
  const checked = await checkLimits(bytes, { id: info.platform, name, memory: info.memory, threads: info.threads, memory64: true });
  // A module the core parser cannot read is the profile check's finding already.
  const findings = checked.findings.filter((f) => f.rule !== 'wasm').map((f) => ({ rule: `device.${f.rule}`, message: f.message }));
  if (bytes.length > info.memory)
    findings.unshift({ rule: 'device.size', message: `the payload is ${bytes.length} bytes; ${name} takes at most ${info.memory}` });
  return { ok: findings.length === 0, findings };
}

function mergeChecks(a: CheckResult, b: CheckResult): CheckResult {
  return { ok: a.ok && b.ok, findings: [...a.findings, ...b.findings] };
}

/** Blocks of at least deltaMinBlockSize, at most maxBlockHashes of them (BLOCKS is bounded). */
export function deltaBlockSize(size: number): number {
  let blockSize: number = C.deltaMinBlockSize;
  while (Math.ceil(size / blockSize) > C.maxBlockHashes) blockSize *= 2;
  return blockSize;
}

/**
 * Ask the device for the block hashes of its active payload and list the blocks that differ. None when
 * there is nothing to start from, the device already holds this payload or a partial upload of it to
 * resume, or when more than half would go anyway.
 */
async function planDelta(session: HostSession, payload: Payload, resume: boolean): Promise<DeltaPlan | undefined> {
  const size = payload.bytes.length;
  const blockSize = deltaBlockSize(size);
  if (blockSize > session.info.maxFrame - C.blockHeadroom) return undefined;
  const state = await session.status();
  // A partial upload to resume; a cut delta upload keeps durable at 0 and is planned again (not resumed).
  if (resume && state.upload?.sha256 === payload.sha256 && state.upload.durable > 0) return undefined;
  let remote;
  try {
    remote = await session.blockHashes(blockSize);
  } catch (err) {
    // A device that cannot hash these blocks (too many for it, or any refusal): send the whole payload.
    if (err instanceof FlightDeckError && (err.code === 'DEVICE_REFUSED' || err.code === 'DEVICE_PROTOCOL_ERROR')) return undefined;
    throw err;
  }
  if (!remote.sha256 || remote.sha256 === payload.sha256) return undefined;
  const blocks: number[] = [];
  for (let i = 0; i * blockSize < size; i++) {
    if (remote.hashes[i] !== sha256(payload.bytes.subarray(i * blockSize, (i + 1) * blockSize))) blocks.push(i);
  }
  if (blocks.length * blockSize > size / 2) return undefined;
  return { base: remote.sha256, blockSize, blocks };
}

function pickCompression(wanted: Compression | 'auto', supported: Compression[], lineRate: number, device: string): Compression {
  if (wanted === 'auto') {
    // Compression pays on a slow line; on a socket or USB it only costs CPU.
    if (lineRate === 0) return 'none';
    return supported.includes('br') ? 'br' : supported.includes('deflate') ? 'deflate' : 'none';
  }
  if (wanted !== 'none' && !supported.includes(wanted)) {
    throw new FlightDeckError('INVALID_INPUT', `${device} does not support ${wanted} compression (it offers ${supported.join(', ') || 'none'}).`, {
      hint: 'Use --compression auto to let Flight Deck pick.',
    });
  }
  return wanted;
}
