/**
 * Contract entries of deploy and devices (core/deploy). Browser-safe: zod and core/errors only.
 * Long calls (deploy.run, device.monitor) take the call's AbortSignal and emit events:
 *   {type:'progress', phase, done, total, retries, wireBytes}   deploy.run
 *   {type:'log', stream, text}                                   deploy.run with run, device.monitor
 * deploy.fleet emits the same events with a `device` field (the reference it was given), and
 *   {type:'result', device, ok, code?}                           when one device is done
 */
import { z } from 'zod';

/** A device URI (serial://, usb://, tcp://) or the name of a configured device or running emulator. */
const DeviceRef = z.string().min(1).max(1024);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Slot = z.object({ sha256: Sha256, size: z.number().int() }).nullable();

export const DeviceStateSchema = z.object({
  platform: z.string(),
  active: z.enum(['A', 'B']).nullable(),
  slots: z.object({ A: Slot, B: Slot }),
  upload: z.object({ sha256: Sha256, size: z.number().int(), durable: z.number().int(), slot: z.enum(['A', 'B']) }).nullable(),
  activeHash: Sha256.nullable().optional(),
});
export type DeviceStateView = z.infer<typeof DeviceStateSchema>;

export const DeviceInfoSchema = z.object({
  version: z.number().int(),
  platform: z.string(),
  memory: z.number().int(),
  threads: z.number().int(),
  slots: z.number().int(),
  maxFrame: z.number().int(),
  compression: z.array(z.string()),
  lineRates: z.array(z.number().int()),
  lineRate: z.number().int(),
  firmware: z.string(),
  serial: z.string().optional(),
  features: z.array(z.string()).optional(),
});

/**
 * Proof of one deploy: the chain registry reference + manifest digest (or kit lock entry) → payload
 * SHA-256 → the device's own hash of the slot after COMMIT → device identity → time, tool, operator.
 */
export const ReceiptSchema = z.object({
  schema: z.literal('flightdeck.receipt/v1'),
  id: z.string(),
  time: z.string(),
  tool: z.object({ name: z.literal('flightdeck'), version: z.string() }),
  operator: z.string(),
  /** Where the payload came from when it was pulled from a registry or an OCI layout. */
  source: z.object({ reference: z.string(), manifestDigest: z.string() }).nullable(),
  /** The kit lock entry the payload came from (offline kits); null otherwise. */
  kit: z.object({ kit: z.string(), entry: z.string(), digest: z.string() }).nullable(),
  payload: z.object({ name: z.string(), sha256: Sha256, size: z.number().int() }),
  device: z.object({ uri: z.string(), name: z.string().nullable(), platform: z.string(), serial: z.string().nullable(), firmware: z.string() }),
  /** What the device reported after COMMIT: the active slot and its own hash of the slot's bytes. */
  reported: z.object({ slot: z.enum(['A', 'B']).nullable(), sha256: Sha256.nullable(), matches: z.boolean() }),
  outcome: z.enum(['committed', 'already-active']),
  transfer: z.enum(['full', 'delta', 'full-after-delta']),
  /** The saved device log of `deploy --run` (timestamped JSON lines), when there was one. */
  session: z.string().nullable(),
  exitCode: z.number().int().nullable(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export const DeployResultSchema = z.object({
  device: z.string(),
  platform: z.string(),
  serial: z.string().optional(),
  firmware: z.string(),
  payload: z.string(),
  sha256: Sha256,
  size: z.number().int(),
  slot: z.enum(['A', 'B']),
  outcome: z.enum(['committed', 'already-active']),
  transfer: z.enum(['full', 'delta', 'full-after-delta']),
  resumedFrom: z.number().int(),
  retries: z.number().int(),
  wireBytes: z.number().int(),
  seconds: z.number(),
  lineRate: z.number().int(),
  compression: z.enum(['none', 'deflate', 'br']),
  findings: z.array(z.object({ rule: z.string(), message: z.string() })),
  state: DeviceStateSchema,
  exitCode: z.number().int().optional(),
  /** The receipt written to the data dir (and its file). */
  receipt: ReceiptSchema.optional(),
  receiptFile: z.string().optional(),
});
export type DeployResultView = z.infer<typeof DeployResultSchema>;

export const DeviceEntrySchema = z.object({
  kind: z.enum(['serial', 'usb', 'configured', 'emulator']),
  uri: z.string(),
  name: z.string().optional(),
  platform: z.string().optional(),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
  manufacturer: z.string().optional(),
  serialNumber: z.string().optional(),
  /** A known dev-kit adapter (core/deploy/adapters.ts). */
  adapter: z.string().optional(),
});
export type DeviceEntry = z.infer<typeof DeviceEntrySchema>;

export const DevicesReportSchema = z.object({
  devices: z.array(DeviceEntrySchema),
  /** Sources that could not be listed (e.g. USB_UNAVAILABLE), each with its code and hint. */
  unavailable: z.array(z.object({ source: z.enum(['serial', 'usb', 'configured']), code: z.string(), message: z.string(), hint: z.string() })),
});
export type DevicesReport = z.infer<typeof DevicesReportSchema>;

const timeoutMs = z.number().int().min(50).max(600_000).optional();

/** What every deploy takes besides the device(s). */
const deployOptions = {
  /** Path of a .wasm module or a platform bundle (.tar.gz), or a registry / `oci:` reference. */
  payload: z.string().min(1).max(4096),
  /** Resolve a reference from the content store only (an imported kit): no network call. */
  offline: z.boolean().optional(),
  /** Module to pick from a bundle (default: the first listed). */
  module: z.string().min(1).max(255).optional(),
  platform: z.string().min(1).max(64).optional(),
  force: z.boolean().default(false),
  resume: z.boolean().default(true),
  run: z.boolean().default(false),
  compression: z.enum(['auto', 'none', 'deflate', 'br']).default('auto'),
  /** Fast reflash (send only differing blocks) when the device offers it. */
  delta: z.boolean().default(true),
  lineRate: z.number().int().min(300).max(16_000_000).optional(),
  /** Seconds to wait for a kit that went away mid-deploy to come back (same serial number) and resume; 0: off. */
  reconnect: z.number().int().min(0).max(3600).default(0),
  timeoutMs,
};

export const FleetEntrySchema = z.object({
  /** The reference as given (URI or name). */
  device: z.string(),
  ok: z.boolean(),
  result: DeployResultSchema.optional(),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).optional(),
});
export type FleetEntry = z.infer<typeof FleetEntrySchema>;

export const FleetResultSchema = z.object({
  payload: z.string(),
  sha256: Sha256,
  results: z.array(FleetEntrySchema),
  succeeded: z.number().int(),
  failed: z.number().int(),
});
export type FleetResult = z.infer<typeof FleetResultSchema>;

export const deployContract = {
  'deploy.run': {
    summary: 'Check, upload (resuming), verify and commit a payload on a device; optionally run it.',
    input: z.object({ ...deployOptions, device: DeviceRef }).strict(),
    output: DeployResultSchema,
  },
  'deploy.fleet': {
    summary: 'Deploy one payload to many devices at once (bounded concurrency); one failing device never stops the others.',
    input: z
      .object({
        ...deployOptions,
        devices: z.array(DeviceRef).max(256).default([]),
        /** Add every known device (configured with a platform, or a running emulator) of this platform. */
        allMatching: z.string().min(1).max(64).optional(),
        concurrency: z.number().int().min(1).max(64).default(8),
      })
      .strict(),
    output: FleetResultSchema,
  },
  'receipts.list': {
    summary: 'Deploy receipts kept in the data dir, newest first; optionally of one device (URI, name or serial number).',
    input: z.object({ device: DeviceRef.optional() }).strict(),
    output: z.object({ receipts: z.array(ReceiptSchema.extend({ file: z.string() })) }),
  },
  'devices.list': {
    summary: 'Serial ports, USB devices, configured devices and running emulators, with known dev-kit adapters marked.',
    input: z.object({}).strict(),
    output: DevicesReportSchema,
  },
  'device.status': {
    summary: 'What a device reports: platform, limits, slots, the active payload and any upload in progress.',
    input: z.object({ device: DeviceRef, timeoutMs }).strict(),
    output: z.object({ device: z.string(), info: DeviceInfoSchema, state: DeviceStateSchema }),
  },
  'device.rollback': {
    summary: 'Make the previous payload (the inactive slot) active again.',
    input: z.object({ device: DeviceRef, timeoutMs }).strict(),
    output: z.object({ device: z.string(), state: DeviceStateSchema }),
  },
  'device.monitor': {
    summary: "The device's log (payload stdout/stderr and device messages) as log events; follow until cancelled.",
    input: z
      .object({
        device: DeviceRef,
        follow: z.boolean().default(true),
        /** Save the session (timestamped JSON lines) to this file when it ends. */
        save: z.string().min(1).max(4096).optional(),
        timeoutMs,
      })
      .strict(),
    output: z.object({ device: z.string(), lines: z.number().int(), saved: z.string().optional() }),
  },
} as const;
