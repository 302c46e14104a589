/**
 * Contract entries of lab files (core/lab): lock, sync, deploy and status of a `flightdeck.lab.yaml`.
 * The schemas live in core/lab/schema.ts; this file only composes them. Browser-safe: zod only.
 * lab.deploy streams the fleet engine's events tagged with the lab's device names, and `skip` for a
 * device already running its locked payload.
 */
import { z } from 'zod';
import { LabDeployEventSchema, LabDeployResultSchema, LabLockResultSchema, LabStatusResultSchema, LabSyncResultSchema } from '../../lab/schema.js';

const file = z.string().min(1).max(4096);
/** The lab file: absolute, or relative to the host's working folder; default flightdeck.lab.yaml there. */
const lab = file.optional();
const connection = { plainHttp: z.boolean().optional(), insecure: z.boolean().optional() };
/** Only the content store (an imported kit): no network call. */
const offline = z.boolean().default(false);
const devices = z.array(z.string().min(1).max(64)).max(1024).optional();
const timeoutMs = z.number().int().min(50).max(600_000).optional();

export const labContract = {
  'lab.lock': {
    summary: 'Resolve every bundle of a lab file to a digest, hash each device payload, and write flightdeck.lab.lock (deterministic).',
    input: z.object({ lab, offline, ...connection }).strict(),
    output: LabLockResultSchema,
  },
  'lab.sync': {
    summary: 'Pull everything a lab lock pins into the content store (or read it from an imported kit), then run the signature policy and the platform checks.',
    input: z.object({ lab, offline, ...connection }).strict(),
    output: LabSyncResultSchema,
  },
  'lab.deploy': {
    summary: 'Flash every device of a lab (or those named) with its locked payload; devices already in sync are skipped unless force.',
    input: z
      .object({
        lab,
        devices,
        force: z.boolean().default(false),
        offline,
        concurrency: z.number().int().min(1).max(64).default(8),
        reconnect: z.number().int().min(0).max(3600).default(0),
        timeoutMs,
        ...connection,
      })
      .strict(),
    output: LabDeployResultSchema,
    events: LabDeployEventSchema,
  },
  'lab.status': {
    summary: "Ask every device of a lab for its active slot's hash: in sync, drifted (with what it runs, from receipts), offline or unknown device.",
    input: z.object({ lab, devices, timeoutMs }).strict(),
    output: LabStatusResultSchema,
  },
} as const;
