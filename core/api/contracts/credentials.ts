/**
 * Contract entries of registry credentials (core/credentials). Browser-safe: zod only.
 * A secret travels only in `credentials.login`'s input; no output ever carries one.
 */
import { z } from 'zod';
import { CredentialListingSchema } from '../../credentials/schema.js';

const registry = z.string().min(1).max(255);

export const credentialsContract = {
  'credentials.list': {
    summary: 'Registries with credentials, where each comes from and when it was last verified (never the secret).',
    input: z.object({}).strict(),
    output: z.object({
      credentials: z.array(CredentialListingSchema),
      problems: z.array(z.object({ source: z.string(), code: z.string(), message: z.string() })),
    }),
  },
  'credentials.login': {
    summary: 'Verify credentials against the registry (/v2/ with its auth flow), then store them in the OS keychain.',
    input: z
      .object({
        registry,
        kind: z.enum(['basic', 'identity-token', 'bearer']),
        username: z.string().min(1).max(255).optional(),
        secret: z
          .string()
          .min(1)
          .max(16 * 1024),
        plainHttp: z.boolean().optional(),
        insecure: z.boolean().optional(),
      })
      .strict()
      .refine((v) => v.kind !== 'basic' || v.username !== undefined, { message: 'a username is required for a password', path: ['username'] }),
    output: CredentialListingSchema,
  },
  'credentials.logout': {
    summary: 'Remove a registry’s credentials from the OS keychain.',
    input: z.object({ registry }).strict(),
    output: z.object({ registry: z.string(), removed: z.boolean() }),
  },
  'credentials.test': {
    summary: 'Verify the credentials Flight Deck would use for a registry now.',
    input: z.object({ registry, plainHttp: z.boolean().optional(), insecure: z.boolean().optional() }).strict(),
    output: CredentialListingSchema,
  },
} as const;
