/**
 * Schemas of lab files (core/lab): the lab file `flightdeck.lab.yaml` (what every kit of a lab should run),
 * its lock `flightdeck.lab.lock` (every tag resolved to a digest, every device's payload hashed), and the
 * results of `lab lock|sync|deploy|status`. The one home of these schemas: core/api/contracts/lab.ts
 * composes them and docs/schemas/lab.schema.json is generated from LabFileSchema. Browser-safe: zod only.
 */
import { z } from 'zod';
import { DeviceStateSchema, FleetEventSchema, FleetEntrySchema, Sha256 } from '../deploy/schema.js';

import { LAB_LOCK_SCHEMA } from './names.js';

export { LAB_FILE, LAB_LOCK_SCHEMA, LAB_SCHEMA_ID } from './names.js';

const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'a digest is sha256:<64 lowercase hex characters>');
const platformId = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'a platform id is lower-case letters, digits, . and -');
const tag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'a tag is [A-Za-z0-9_][A-Za-z0-9._-]{0,127}');
const deviceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a device name is letters, digits, . _ and - (at most 64)');
const moduleName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/, 'a module name is the file name in the bundle (with or without .wasm)');

/** What a platform should run: the bundle at a tag (resolved by `lab lock`) or pinned to a digest. */
export const LabBundleSchema = z.union([
  z.object({ tag: tag.describe('A tag of <source>/bundles/<platform>, resolved to a digest by `flightdeck lab lock`.') }).strict(),
  z.object({ digest: digest.describe('The bundle manifest digest, pinned.') }).strict(),
]);
export type LabBundle = z.infer<typeof LabBundleSchema>;

export const LabDeviceSchema = z
  .object({
    name: deviceName.describe('Unique name of the kit in this lab (receipts and `lab deploy --device` use it).'),
    uri: z.string().min(1).max(1024).optional().describe('serial:///dev/ttyUSB0?baud=921600, usb://VID:PID[/SERIAL] or tcp://host:port'),
    serialNumber: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("The kit's serial number: finds an attached kit without a URI; with a URI, the kit answering there must report it."),
    platform: platformId.describe('Platform id (`flightdeck platforms`); a bundle for it must be listed under bundles.'),
    module: moduleName.optional().describe('Module of the bundle to flash (default: the first the bundle lists).'),
  })
  .strict();
export type LabDevice = z.infer<typeof LabDeviceSchema>;

export const LabFileSchema = z
  .object({
    source: z
      .string()
      .min(1)
      .max(1024)
      .describe('host[:port]/namespace (e.g. registry.lab.example/flight/shared-types), or oci:DIR[:namespace] (an imported or local kit)'),
    bundles: z.record(platformId, LabBundleSchema).describe('Per platform: the bundle to run, by tag or digest.'),
    devices: z.array(LabDeviceSchema).max(1024).describe('The kits of the lab.'),
    policy: z.string().min(1).max(4096).optional().describe('Signature policy file (relative to the lab file); default <config>/policy.json when it exists.'),
  })
  .strict();
export type LabFile = z.infer<typeof LabFileSchema>;

export const LabPayloadLockSchema = z.object({ file: z.string(), sha256: Sha256, size: z.number().int().nonnegative() }).strict();

export const LabBundleLockSchema = z
  .object({
    /** What the lab file asked for. */
    requested: LabBundleSchema,
    /** The bundle pinned by digest (registry reference, or the oci: folder as the lab file writes it). */
    reference: z.string(),
    digest,
    /** Per module a device uses ("" is the bundle's first module): the file in the bundle and its hash. */
    payloads: z.record(z.string(), LabPayloadLockSchema),
  })
  .strict();

export const LabLockSchema = z
  .object({
    schema: z.literal(LAB_LOCK_SCHEMA),
    source: z.string(),
    bundles: z.record(z.string(), LabBundleLockSchema),
  })
  .strict();
export type LabLock = z.infer<typeof LabLockSchema>;

/** The lab a call worked on: its file, the lock file and the lock's digest (sha256 of its bytes). */
export const LabRefSchema = z.object({ file: z.string(), lock: z.string(), lockDigest: digest });
export type LabRef = z.infer<typeof LabRefSchema>;

export const LabLockResultSchema = LabRefSchema.extend({
  changed: z.boolean(),
  /** Platforms whose digest differs from the previous lock (empty on the first lock). */
  moved: z.array(z.object({ platform: z.string(), from: digest.nullable(), to: digest })),
  content: LabLockSchema,
});
export type LabLockResult = z.infer<typeof LabLockResultSchema>;

const ErrorObject = z.object({ code: z.string(), message: z.string(), hint: z.string() });

export const LabSyncResultSchema = LabRefSchema.extend({
  ok: z.boolean(),
  bundles: z.array(
    z.object({
      platform: z.string(),
      reference: z.string(),
      digest,
      signature: z.object({ rule: z.string().nullable(), verifiedBy: z.array(z.string()) }).nullable(),
      payloads: z.array(
        z.object({
          module: z.string(),
          file: z.string(),
          sha256: Sha256,
          fits: z.boolean(),
          findings: z.array(z.object({ rule: z.string(), message: z.string() })),
        }),
      ),
    }),
  ),
  /** Every problem found (content missing, hash differs from the lock, a check finding, the policy); empty when ok. */
  problems: z.array(ErrorObject.extend({ subject: z.string() })),
});
export type LabSyncResult = z.infer<typeof LabSyncResultSchema>;

export const LAB_STATES = ['in-sync', 'drifted', 'offline', 'unknown-device'] as const;
export type LabState = (typeof LAB_STATES)[number];

/** What a drifted kit runs instead, from the newest receipt of that device with that hash, when there is one. */
export const LabRunsSchema = z.object({
  sha256: Sha256.nullable(),
  payload: z.string().nullable(),
  reference: z.string().nullable(),
  receipt: z.string().nullable(),
  time: z.string().nullable(),
  operator: z.string().nullable(),
  /** The lab lock the receipt names, when that deploy came from a lab. */
  lockDigest: z.string().nullable(),
});

export const LabDeviceStatusSchema = z.object({
  name: z.string(),
  platform: z.string(),
  uri: z.string().nullable(),
  state: z.enum(LAB_STATES),
  /** The payload the lock says it should run. */
  locked: z.object({ sha256: Sha256, file: z.string(), digest }),
  runs: LabRunsSchema.nullable(),
  /** Why a device is offline or unknown. */
  error: ErrorObject.nullable(),
  serial: z.string().nullable(),
  device: DeviceStateSchema.nullable(),
});
export type LabDeviceStatus = z.infer<typeof LabDeviceStatusSchema>;

export const LabStatusResultSchema = LabRefSchema.extend({
  devices: z.array(LabDeviceStatusSchema),
  counts: z.object({ 'in-sync': z.number().int(), drifted: z.number().int(), offline: z.number().int(), 'unknown-device': z.number().int() }),
});
export type LabStatusResult = z.infer<typeof LabStatusResultSchema>;

export const LabDeployResultSchema = LabRefSchema.extend({
  /** Devices already running their locked payload (not flashed; --force flashes them too). */
  skipped: z.array(z.string()),
  results: z.array(FleetEntrySchema),
  succeeded: z.number().int(),
  failed: z.number().int(),
});
export type LabDeployResult = z.infer<typeof LabDeployResultSchema>;

/** lab.deploy: the fleet engine's events (tagged with the lab device name), and `skip` for a device in sync. */
export const LabDeployEventSchema = z.union([FleetEventSchema, z.object({ type: z.literal('skip'), device: z.string(), sha256: Sha256 })]);
export type LabDeployEvent = z.infer<typeof LabDeployEventSchema>;
