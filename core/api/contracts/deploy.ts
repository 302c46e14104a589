/**
 * Contract entries of deploy and devices (core/deploy). Browser-safe: zod and core/errors only.
 * Long calls (deploy.run, device.monitor) take the call's AbortSignal and emit events:
 *   {type:'progress', phase, done, total, retries, wireBytes}   deploy.run
 *   {type:'log', stream, text}                                   deploy.run with run, device.monitor
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
});

export const DeployResultSchema = z.object({
  device: z.string(),
  platform: z.string(),
  payload: z.string(),
  sha256: Sha256,
  size: z.number().int(),
  slot: z.enum(['A', 'B']),
  outcome: z.enum(['committed', 'already-active']),
  resumedFrom: z.number().int(),
  retries: z.number().int(),
  wireBytes: z.number().int(),
  seconds: z.number(),
  lineRate: z.number().int(),
  compression: z.enum(['none', 'deflate', 'br']),
  findings: z.array(z.object({ rule: z.string(), message: z.string() })),
  state: DeviceStateSchema,
  exitCode: z.number().int().optional(),
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

export const deployContract = {
  'deploy.run': {
    summary: 'Check, upload (resuming), verify and commit a payload on a device; optionally run it.',
    input: z
      .object({
        /** Path of a .wasm module or a platform bundle (.tar.gz), or a registry / `oci:` reference. */
        payload: z.string().min(1).max(4096),
        /** Resolve a reference from the content store only (an imported kit): no network call. */
        offline: z.boolean().optional(),
        /** Module to pick from a bundle (default: the first listed). */
        module: z.string().min(1).max(255).optional(),
        device: DeviceRef,
        platform: z.string().min(1).max(64).optional(),
        force: z.boolean().default(false),
        resume: z.boolean().default(true),
        run: z.boolean().default(false),
        compression: z.enum(['auto', 'none', 'deflate', 'br']).default('auto'),
        lineRate: z.number().int().min(300).max(16_000_000).optional(),
        timeoutMs,
      })
      .strict(),
    output: DeployResultSchema,
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
    input: z.object({ device: DeviceRef, follow: z.boolean().default(true), timeoutMs }).strict(),
    output: z.object({ device: z.string(), lines: z.number().int() }),
  },
} as const;
