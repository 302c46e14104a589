/**
 * Contract entries of offline bundle kits (core/kits). The schemas of their results live in
 * core/kits/schema.ts; this file only composes them. Browser-safe: zod only.
 */
import { z } from 'zod';
import { progressEvents } from './events.js';
import { KitBuildEventsSchema } from '../../oci/schema.js';
import { KIT_INCLUDES, KitBuildSchema, KitImportSchema, KitPushSchema, KitVerifySchema } from '../../kits/schema.js';

const connection = { plainHttp: z.boolean().optional(), insecure: z.boolean().optional() };
const file = z.string().min(1).max(4096);
const platformId = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/);

const policy = file.optional().describe('Signature policy file (default: <config>/policy.json when it exists).');

export const kitsContract = {
  'kit.build': {
    summary: 'Build an offline kit (OCI image layout dir or tar + kit-lock.json) for platforms from a registry namespace or an OCI layout.',
    input: z
      .object({
        /** Required unless `lab` gives them. */
        platforms: z.array(platformId).max(32).default([]),
        /** Required unless `lab` gives it. */
        from: z.string().min(1).max(1024).optional(),
        /** A lab file: exactly the bundles its lock pins (platforms and source from the lab; `lab lock` first). */
        lab: file.optional(),
        tag: z.string().min(1).max(128).optional(),
        include: z.array(z.enum(KIT_INCLUDES)).optional(),
        output: file,
        /** Replace the kit already at `output` (never another file): built beside it, verified, then renamed over it; a failed build keeps it. */
        replace: z.boolean().optional(),
        created: z.string().min(1).max(64).optional(),
        policy,
        ...connection,
      })
      .strict(),
    output: KitBuildSchema,
    events: KitBuildEventsSchema,
  },
  'kit.verify': {
    summary: 'Verify a kit: layout, every blob re-hashed, lock file, signatures, platform checks re-run.',
    input: z.object({ kit: file, policy }).strict(),
    output: KitVerifySchema,
    events: progressEvents('verify'),
  },
  'kit.import': {
    summary: 'Import a verified kit into the local content store (all or nothing).',
    input: z.object({ kit: file, policy }).strict(),
    output: KitImportSchema,
    events: progressEvents('verify'),
  },
  'kit.push': {
    summary: 'Mirror a verified kit into a (lab) registry.',
    input: z.object({ kit: file, registry: z.string().min(1).max(255), policy, ...connection }).strict(),
    output: KitPushSchema,
  },
} as const;
