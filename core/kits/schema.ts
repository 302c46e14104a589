/**
 * Schemas of offline bundle kits (core/kits): the kit lock file (docs/kits.md) and the results of
 * build, verify, import and push. The one home of these schemas; core/api/contracts/kits.ts composes
 * them. Browser-safe: zod only.
 */
import { z } from 'zod';

const u = z.number().int().nonnegative();
const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);
import { KIT_INCLUDES } from './includes.js';

export { KIT_INCLUDES } from './includes.js';

/** Signature content in the kit: the cosign `<repo>:sha256-<hex>.sig` manifest, the `<repo>:sha256-<hex>` referrers index. */
export const KitSignatureSchema = z.object({ ref: z.string(), digest });

export const KitArtifactSchema = z.object({
  /** Ref name in the kit's index.json: `<repository>:<tag>`. */
  ref: z.string(),
  repository: z.string(),
  tag: z.string(),
  category: z.string(),
  digest,
  mediaType: z.string(),
  artifactType: z.string().optional(),
  platforms: z.array(z.string()),
  /** Bytes of the manifest and every blob it reaches. */
  size: u,
  signatures: z.array(KitSignatureSchema),
  /** Policy keys that verified a signature of this digest at build time; empty without a policy key. */
  verifiedBy: z.array(z.string()),
});
export type KitArtifact = z.infer<typeof KitArtifactSchema>;

export const KitCheckSchema = z.object({
  platform: z.string(),
  fits: z.boolean(),
  results: z.array(z.object({ ref: z.string(), fits: z.boolean(), errors: u, warnings: u, rules: z.array(z.string()) })),
});
export type KitCheck = z.infer<typeof KitCheckSchema>;

export const KIT_LOCK_SCHEMA = 'flightdeck.kit-lock/v1';
export const KitLockSchema = z
  .object({
    schema: z.literal(KIT_LOCK_SCHEMA),
    tool: z.object({ name: z.literal('flightdeck'), version: z.string() }),
    /** Build time: --created, else SOURCE_DATE_EPOCH, else the master manifest's created annotation. */
    created: z.string(),
    source: z.object({
      /** `host[:port]/namespace` or `oci:<dir>[:namespace]` as given to --from. */
      from: z.string(),
      registry: z.string().nullable(),
      namespace: z.string(),
      master: z.object({ ref: z.string(), digest }),
    }),
    platforms: z.array(z.string()),
    include: z.array(z.enum(KIT_INCLUDES)),
    artifacts: z.array(KitArtifactSchema),
    checks: z.array(KitCheckSchema),
    totalBytes: u,
  })
  .strict();
export type KitLock = z.infer<typeof KitLockSchema>;

/**
 * One problem of a kit, a full error object: its own code, its message, and the hint of the error that
 * refuses such a kit (signature codes keep theirs; every integrity problem refuses the kit as KIT_INVALID).
 */
export const KitProblemSchema = z.object({ code: z.string(), message: z.string(), hint: z.string(), subject: z.string().optional() });
export type KitProblem = z.infer<typeof KitProblemSchema>;

export const KitVerifySchema = z.object({
  kit: z.string(),
  ok: z.boolean(),
  blobs: z.object({ checked: u, bytes: u }),
  refs: u,
  lock: z.boolean(),
  signatures: z.array(z.object({ ref: z.string(), status: z.enum(['verified', 'unsigned', 'unverified', 'invalid']), verifiedBy: z.array(z.string()) })),
  checks: z.array(KitCheckSchema),
  problems: z.array(KitProblemSchema),
});
export type KitVerify = z.infer<typeof KitVerifySchema>;

export const KitBuildSchema = z.object({
  output: z.string(),
  format: z.enum(['dir', 'tar']),
  /** sha256 of the tar file (a tar kit), or of kit-lock.json (a directory kit). */
  kitDigest: digest,
  lock: KitLockSchema,
  downloadedBytes: u,
  reusedBytes: u,
  /** True when the kit replaced an old one at the output (`replace`), after it was verified. */
  replaced: z.boolean().optional(),
});
export type KitBuild = z.infer<typeof KitBuildSchema>;

export const KitImportSchema = z.object({
  kit: z.string(),
  store: z.string(),
  refs: z.array(z.string()),
  blobsAdded: u,
  blobsPresent: u,
  /** Blob bytes written into the store (0 when the kit was already there). */
  bytesAdded: u,
});
export type KitImport = z.infer<typeof KitImportSchema>;

export const KitPushSchema = z.object({
  registry: z.string(),
  refs: z.array(z.string()),
  uploaded: u,
  skipped: u,
});
export type KitPush = z.infer<typeof KitPushSchema>;
