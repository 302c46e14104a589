/**
 * Contract entries of deploy and devices (core/deploy). Browser-safe: zod and the module's schema only.
 * Long calls (deploy.run, deploy.fleet, device.monitor) take the call's AbortSignal and declare the events
 * they emit (`events`, schemas in core/deploy/schema.ts): phase, upload progress and log lines; deploy.fleet
 * tags each with `device` (the reference it was given) and ends each device with a `result` event that
 * carries the full error object of a failed device.
 */
import { z } from 'zod';
import {
  ConformanceEventSchema,
  ConformanceReportSchema,
  DeployEventSchema,
  DeployResultSchema,
  DeviceInfoSchema,
  DeviceLogEventSchema,
  DeviceStateSchema,
  DevicesReportSchema,
  FleetEventSchema,
  FleetResultSchema,
  ListedReceiptSchema,
} from '../../deploy/schema.js';

/** A device URI (serial://, usb://, tcp://) or the name of a configured device or running emulator. */
const DeviceRef = z.string().min(1).max(1024);

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

export const deployContract = {
  'deploy.run': {
    summary: 'Check, upload (resuming), verify and commit a payload on a device; optionally run it.',
    input: z.object({ ...deployOptions, device: DeviceRef }).strict(),
    output: DeployResultSchema,
    events: DeployEventSchema,
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
    events: FleetEventSchema,
  },
  'receipts.list': {
    summary: 'Deploy receipts kept in the data dir, newest first; optionally of one device (URI, name or serial number).',
    input: z.object({ device: DeviceRef.optional() }).strict(),
    output: z.object({ receipts: z.array(ListedReceiptSchema) }),
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
  'device.conformance': {
    summary:
      'Check a device against the Flight Deploy Protocol (docs/protocol.md): handshake, each message, resent requests, cuts at each phase, resume, rollback retry, limits. Flashes small test payloads.',
    input: z
      .object({
        device: DeviceRef,
        timeoutMs,
        /** Bytes of the larger test payload (default 96 KiB). */
        payloadSize: z
          .number()
          .int()
          .min(8192)
          .max(64 << 20)
          .optional(),
      })
      .strict(),
    output: ConformanceReportSchema,
    events: ConformanceEventSchema,
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
    events: DeviceLogEventSchema,
  },
} as const;
