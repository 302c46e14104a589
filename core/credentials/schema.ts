/**
 * Schemas of what Flight Deck says about registry credentials (core/credentials): where a registry's
 * credentials come from and when they were last verified, never the secret. The one home of these
 * schemas; core/api/contracts/credentials.ts composes them. Browser-safe: zod only.
 */
import { z } from 'zod';

export const CredentialListingSchema = z.object({
  registry: z.string(),
  username: z.string().optional(),
  kind: z.enum(['basic', 'identity-token', 'bearer', 'unknown']),
  source: z.enum(['flag', 'env', 'keychain', 'docker-config', 'credential-helper', 'anonymous']),
  helper: z.string().optional(),
  verifiedAt: z.string().optional(),
});
export type CredentialListingInfo = z.infer<typeof CredentialListingSchema>;
