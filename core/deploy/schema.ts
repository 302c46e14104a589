/**
 * Schemas of deploys and devices (core/deploy): what a device reports (INFO, STATE), deploy results,
 * receipts, device listings and fleet results. The one home of these schemas: the wire protocol
 * (core/deploy/protocol.ts) parses device messages with them and core/api/contracts/deploy.ts composes
 * them. Browser-safe: zod only (bundled into the renderer through the contract).
 */
import { z } from 'zod';

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const COMPRESSIONS = ['none', 'deflate', 'br'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const SlotName = z.enum(['A', 'B']);
export type SlotName = z.infer<typeof SlotName>;
const SlotContent = z.object({ sha256: Sha256, size: z.number().int().nonnegative() }).nullable();

/** What a device says about itself (the INFO message). */
export const DeviceInfoSchema = z.object({
  version: z.number().int().describe('Protocol version the device speaks (1).'),
  platform: z.string().describe('Platform id (a profile of `flightdeck platforms`); payloads for another platform are refused.'),
  /** Bytes of memory the device gives a payload. */
  memory: z
    .number()
    .int()
    .positive()
    .describe('Bytes of linear memory the device gives a payload; the host refuses a payload whose memories start above it, or that is larger.'),
  threads: z.number().int().positive().describe('Hardware threads a payload may use; 1 refuses shared memories.'),
  slots: z.number().int().positive().describe('Payload slots (2: A and B).'),
  maxFrame: z.number().int().min(1024).describe('Longest frame the device takes, in wire bytes: escaped, both 0xC0 delimiters included.'),
  compression: z.array(z.enum(COMPRESSIONS)).describe('DATA codecs the device inflates.'),
  /** Line rates the device can switch to (serial); empty when it has no line rate. */
  lineRates: z.array(z.number().int().positive()).describe('Line rates in baud the device can switch to (SET_RATE); empty without a line rate.'),
  /** Current line rate in baud (0: none, e.g. TCP). */
  lineRate: z.number().int().nonnegative().describe('Current line rate in baud; 0 on TCP and USB (no line rate).'),
  firmware: z.string().describe('Firmware name and version, free text.'),
  /** Serial number: the same device answers with the same one after it disconnects and comes back. */
  serial: z.string().optional().describe('Serial number: the same device reports the same one after a reconnect.'),
  /** Optional protocol features the device offers (FEATURES); a v1 device without the field offers none. */
  features: z.array(z.string()).optional().describe('Optional protocol features: block-hashes, slot-hash. Unknown ones are ignored.'),
});
export type DeviceInfo = z.infer<typeof DeviceInfoSchema>;

/** Slots, the active payload and any upload in progress (the STATE message). */
export const DeviceStateSchema = z.object({
  platform: z.string(),
  active: SlotName.nullable(),
  slots: z.object({ A: SlotContent, B: SlotContent }),
  upload: z.object({ sha256: Sha256, size: z.number().int(), durable: z.number().int(), slot: SlotName }).nullable(),
  /** The device's own SHA-256 of the active slot's bytes, hashed when it answered (feature slot-hash). */
  activeHash: Sha256.nullable().optional(),
});
export type DeviceState = z.infer<typeof DeviceStateSchema>;
/** The device state as the api shows it (the same schema). */
export type DeviceStateView = DeviceState;

/** A deploy from a lab file (`flightdeck lab deploy`): the lab file, the lock's digest and the lab's device name. */
export const ReceiptLabSchema = z.object({ file: z.string(), lockDigest: z.string(), device: z.string() });
export type ReceiptLab = z.infer<typeof ReceiptLabSchema>;

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
  /** The lab file and lock a `lab deploy` flashed from; absent or null otherwise. */
  lab: ReceiptLabSchema.nullable().optional(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

/** A receipt as `receipts.list` gives it: its file, and what it flashed at a glance (core/deploy/receipts.ts). */
export const ListedReceiptSchema = ReceiptSchema.extend({
  file: z.string(),
  /** The module flashed: the bundle's module (`wasm/x.wasm` → `x`), the wasm artifact's repository name, or the file's name. */
  module: z.string(),
  /** Where it came from, canonical: `repository:tag@manifest-digest` as pulled (host included); null for a local file. */
  reference: z.string().nullable(),
});
export type ListedReceipt = z.infer<typeof ListedReceiptSchema>;

export const DeployResultSchema = z.object({
  device: z.string(),
  platform: z.string(),
  serial: z.string().optional().describe('Serial number: the same device reports the same one after a reconnect.'),
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

// --- Events of deploys and device logs (declared in the contract: deploy.run, deploy.fleet, device.monitor) ---

/** The steps of one deploy, in order (reconnect: the kit went away and is awaited). */
export const DEPLOY_PHASES = ['connect', 'reconnect', 'check', 'line-rate', 'upload', 'verify', 'commit', 'run'] as const;
export type DeployPhase = (typeof DEPLOY_PHASES)[number];
const count = z.number().int().nonnegative();

export const DeployPhaseEventSchema = z.object({ type: z.literal('phase'), phase: z.enum(DEPLOY_PHASES) });
/** Upload progress: payload bytes the device acknowledged, what it held already, retries, bytes on the wire. */
export const DeployProgressEventSchema = z.object({
  type: z.literal('progress'),
  phase: z.literal('upload'),
  done: count,
  total: count,
  resumedFrom: count,
  retries: count,
  wireBytes: count,
  /** Bytes per second, when the device reports its own rate (else the UI measures it). */
  rate: z.number().nonnegative().optional(),
});
/** One line of the device's log: the payload's stdout/stderr or the device's own messages. */
export const DeviceLogEventSchema = z.object({ type: z.literal('log'), stream: z.enum(['stdout', 'stderr', 'device']), text: z.string() });
export type DeviceLogEvent = z.infer<typeof DeviceLogEventSchema>;

export const DeployEventSchema = z.discriminatedUnion('type', [DeployPhaseEventSchema, DeployProgressEventSchema, DeviceLogEventSchema]);
export type DeployEvent = z.infer<typeof DeployEventSchema>;

/** A full error object, as results carry them: stable code, message and hint. */
const ErrorObject = z.object({ code: z.string(), message: z.string(), hint: z.string() });
const tagged = { device: z.string() };
/** deploy.fleet: the events of each device's deploy tagged with the reference it was given, and its end. */
export const FleetEventSchema = z.discriminatedUnion('type', [
  DeployPhaseEventSchema.extend(tagged),
  DeployProgressEventSchema.extend(tagged),
  DeviceLogEventSchema.extend(tagged),
  z.object({ type: z.literal('result'), ...tagged, ok: z.boolean(), code: z.string().optional(), error: ErrorObject.optional() }),
]);
export type FleetEvent = z.infer<typeof FleetEventSchema>;

/** The local reference emulator the app itself started (emulators.start): on tcp://127.0.0.1, listed by devices.list while it runs. */
export const LocalEmulatorSchema = z.object({
  uri: z.string(),
  platform: z.string(),
  /** Its name in `devices.list` (a device reference for deploy and status). */
  name: z.string(),
  /** Its slot directory, under the data dir. */
  stateDir: z.string(),
});
export type LocalEmulator = z.infer<typeof LocalEmulatorSchema>;

/** One check of `flightdeck device conformance` (core/deploy/conformance.ts). */
export const ConformanceCheckSchema = z.object({
  id: z.string(),
  title: z.string(),
  ok: z.boolean(),
  /** What was seen: the reason of a failure, or a note on a pass (e.g. "resumed from byte 49152"). */
  detail: z.string(),
  ms: z.number().int().nonnegative(),
});
export type ConformanceCheck = z.infer<typeof ConformanceCheckSchema>;

export const ConformanceReportSchema = z.object({
  /** What the device said in INFO; null when the handshake failed. */
  device: z
    .object({ platform: z.string(), firmware: z.string(), serial: z.string().nullable(), maxFrame: z.number().int(), features: z.array(z.string()) })
    .nullable(),
  checks: z.array(ConformanceCheckSchema),
  passed: z.number().int(),
  failed: z.number().int(),
});
export type ConformanceReport = z.infer<typeof ConformanceReportSchema>;

/** A finished conformance check, as it happens (device.conformance events). */
export const ConformanceEventSchema = z.object({ type: z.literal('check'), check: ConformanceCheckSchema });
