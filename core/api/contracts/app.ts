/**
 * Contract entries of the app itself: version, doctor, the registry connection test and Flight Deck's own
 * registry settings (config.json). Browser-safe
 * (bundled into the renderer).
 */
import { z } from 'zod';
import { DoctorReportSchema, VersionInfoSchema } from '../../doctor/schema.js';
import {
  ConnectionTestSchema,
  RegistryHostSchema,
  RegistrySettingsListSchema,
  RegistrySettingsRemoveSchema,
  RegistrySettingsSaveSchema,
} from '../../registries/schema.js';

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
  'registry.settings.list': {
    summary:
      'Flight Deck’s own registry entries of config.json (secret header values and proxy credentials left out), the entries of registries.conf and certs.d (read-only) and the effective settings of each registry with their origin.',
    input: empty,
    output: RegistrySettingsListSchema,
  },
  'registry.settings.save': {
    summary:
      'Add or replace one registry entry of config.json (locked and written atomically; refused with CONFIG_CHANGED when the entry changed since its listed revision). A header without a value keeps its stored value.',
    input: RegistrySettingsSaveSchema,
    output: RegistrySettingsListSchema,
  },
  'registry.settings.remove': {
    summary: 'Remove one registry entry of config.json (refused with CONFIG_CHANGED when it changed since its listed revision).',
    input: RegistrySettingsRemoveSchema,
    output: RegistrySettingsListSchema,
  },
} as const;
