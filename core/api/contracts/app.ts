/**
 * Contract entries of the app itself: version, doctor and the registry connection test. Browser-safe
 * (bundled into the renderer).
 */
import { z } from 'zod';
import { DoctorReportSchema, VersionInfoSchema } from '../../doctor/schema.js';
import { ConnectionTestSchema, RegistryHostSchema } from '../../registries/schema.js';

const empty = z.object({}).strict();

export const appContract = {
  'app.version': {
    summary: 'Version of Flight Deck and its runtime.',
    input: empty,
    output: VersionInfoSchema,
  },
  'doctor.run': {
    summary: 'Which capabilities work on this machine, with a fix hint for each missing one.',
    input: z
      .object({
        /** Registries to check for reachability, in addition to the configured ones. */
        registries: z.array(z.string().min(1).max(255)).max(32).optional(),
      })
      .strict(),
    output: DoctorReportSchema,
  },
  'registry.test': {
    summary:
      'Test the connection to one registry step by step (settings and their origin, DNS, proxy, TCP, TLS chain and CA, client certificate, /v2/ answer and auth challenge); sends no credential.',
    input: z.object({ registry: RegistryHostSchema, plainHttp: z.boolean().optional(), insecure: z.boolean().optional() }).strict(),
    output: ConnectionTestSchema,
  },
} as const;
