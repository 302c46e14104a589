/**
 * Schemas of per-registry connection settings (core/registries): the object form of a `registries` entry
 * in config.json, the effective settings of one registry and where each came from. The one home of these
 * schemas; core/config/config.ts and core/doctor/schema.ts compose them. Browser-safe: zod only.
 */
import { z } from 'zod';

/** `host[:port]` (or `[v6]:port`), lower case, as registries are named everywhere in Flight Deck. */
export const RegistryHostSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:\d{1,5})?$/i, 'a registry host[:port], e.g. registry.example.com or localhost:5000');

const file = z.string().min(1).max(4096);
/** An HTTP header name (RFC 9110 token) and a value without CR, LF or NUL. */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'an HTTP header name');
const headerValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, 'a header value without line breaks');
/** An `http://` or `https://` proxy URL (credentials may be in it; they are never printed). */
export const ProxyUrlSchema = z
  .string()
  .max(2048)
  .refine((s) => /^https?:\/\/[^/\s]+\/?$/i.test(s), 'an http:// or https:// proxy URL (http://[user:password@]host:port)');

export const PULL_FROM_MIRROR = ['all', 'digest-only', 'tag-only'] as const;

export const MirrorSchema = z
  .object({
    /** `host[:port]` of the mirror, optionally with a path prefix (`mirror.lab:5000/cache`). */
    location: z.string().min(1).max(1024),
    insecure: z.boolean().optional(),
  })
  .strict();
export type Mirror = z.infer<typeof MirrorSchema>;

/** The object form of a config.json `registries` entry. */
export const RegistryEntrySchema = z
  .object({
    host: RegistryHostSchema,
    /** Plain HTTP instead of HTTPS. */
    plainHttp: z.boolean().optional(),
    /** Skip TLS verification (or, for registries.conf compatibility, also allow plain HTTP). */
    insecure: z.boolean().optional(),
    /** Refuse every connection to this registry (REGISTRY_BLOCKED). */
    blocked: z.boolean().optional(),
    /** PEM file(s) of CAs trusted for this registry, besides the system store. */
    ca: z.union([file, z.array(file).max(32)]).optional(),
    /** PEM client certificate and its key (mTLS). */
    cert: file.optional(),
    key: file.optional(),
    /** Extra request headers (not sent to redirect targets on other hosts). */
    headers: z.record(headerName, headerValue).optional(),
    /** Proxy for this registry, overriding HTTPS_PROXY/HTTP_PROXY/NO_PROXY; "direct" for none. */
    proxy: z.union([ProxyUrlSchema, z.literal('direct')]).optional(),
    mirrors: z.array(MirrorSchema).max(16).optional(),
    pullFromMirror: z.enum(PULL_FROM_MIRROR).optional(),
  })
  .strict()
  .refine((r) => (r.cert === undefined) === (r.key === undefined), { message: '"cert" and "key" go together', path: ['cert'] });
export type RegistryEntry = z.infer<typeof RegistryEntrySchema>;

/** A config.json `registries` entry: a bare `host[:port]` (the original form) or the object form. */
export const RegistryConfigSchema = z.union([z.string().min(1).max(255), RegistryEntrySchema]);
export type RegistryConfig = z.infer<typeof RegistryConfigSchema>;

/** Where an effective setting came from, in precedence order (docs/registries.md). */
export const SETTING_ORIGINS = ['flag', 'config.json', 'registries.conf', 'certs.d', 'environment', 'default'] as const;
export const SettingOriginSchema = z.object({
  origin: z.enum(SETTING_ORIGINS),
  /** The file, folder, flag or variable it was read from. */
  from: z.string().optional(),
});
export type SettingOrigin = z.infer<typeof SettingOriginSchema>;

/** The effective settings of one registry, each with its origin; secrets (proxy credentials) redacted. */
export const RegistrySettingsReportSchema = z.object({
  host: z.string(),
  blocked: z.boolean(),
  scheme: z.enum(['http', 'https']),
  insecure: z.boolean(),
  ca: z.array(z.string()),
  clientCert: z.string().optional(),
  headers: z.array(z.string()),
  proxy: z.string(),
  mirrors: z.array(z.string()),
  pullFromMirror: z.enum(PULL_FROM_MIRROR),
  /** registries.conf `location`: where this registry's (prefix-rooted) names are really fetched from. */
  location: z.string().optional(),
  sources: z.record(z.string(), SettingOriginSchema),
  warnings: z.array(z.string()),
});
export type RegistrySettingsReport = z.infer<typeof RegistrySettingsReportSchema>;

/** Connection flags of a CLI command (ORAS/skopeo names); file paths, so never taken from the web api. */
export interface RegistryFlags {
  caFile?: string[] | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  certDir?: string | undefined;
  registriesConf?: string | undefined;
  headers?: string[] | undefined;
}

export const CONNECTION_STEPS = ['settings', 'dns', 'proxy', 'tcp', 'tls', 'client-cert', 'http', 'auth'] as const;

/** One step of a connection test ("Test connection"): what was tried and what came of it. */
export const ConnectionStepSchema = z.object({
  step: z.enum(CONNECTION_STEPS),
  status: z.enum(['ok', 'fail', 'skip']),
  detail: z.string(),
  /** The error code of a failed step (core/errors.ts). */
  code: z.string().optional(),
});
export type ConnectionStep = z.infer<typeof ConnectionStepSchema>;

export const ConnectionTestSchema = z.object({
  registry: z.string(),
  ok: z.boolean(),
  settings: RegistrySettingsReportSchema,
  steps: z.array(ConnectionStepSchema),
});
export type ConnectionTest = z.infer<typeof ConnectionTestSchema>;

/**
 * Header names whose values are secrets (credentials, tokens, cookies, keys): their values are never sent
 * back to a page, over IPC or into a log once stored; the page sends a header without a value to keep it.
 */
export const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|auth|token|secret|passw|key|session|cookie|credential|signature|private/i;
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** One header of a stored entry as the page sees it: a secret's value is left out. */
export const HeaderViewSchema = z.object({ name: headerName, value: z.string().optional(), secret: z.boolean() });
export type HeaderView = z.infer<typeof HeaderViewSchema>;

/** Flight Deck's own entry of config.json as the page edits it (secrets redacted) and its revision. */
export const RegistryEntryViewSchema = z.object({
  host: z.string(),
  plainHttp: z.boolean().optional(),
  insecure: z.boolean().optional(),
  blocked: z.boolean().optional(),
  ca: z.array(z.string()),
  cert: z.string().optional(),
  key: z.string().optional(),
  headers: z.array(HeaderViewSchema),
  /** The proxy, credentials redacted (`http://***@proxy:3128`); sent back unchanged, the stored one is kept. */
  proxy: z.string().optional(),
  mirrors: z.array(MirrorSchema),
  pullFromMirror: z.enum(PULL_FROM_MIRROR).optional(),
  /** A hash of the stored entry: an edit naming it is refused (CONFIG_CHANGED) when the entry changed since. */
  revision: z.string(),
});
export type RegistryEntryView = z.infer<typeof RegistryEntryViewSchema>;

/** Settings of a registry that come from the user's other tools' files: shown, never edited here. */
export const ExternalRegistrySchema = z.object({
  host: z.string(),
  origin: z.enum(['registries.conf', 'certs.d']),
  /** The file or folder. */
  from: z.string(),
  /** What it sets, one phrase each ("location lab-cache:5000", "CA ca.crt", "mirror m:5000 (digest-only)"). */
  settings: z.array(z.string()),
});
export type ExternalRegistry = z.infer<typeof ExternalRegistrySchema>;

export const RegistrySettingsListSchema = z.object({
  /** config.json, the file Flight Deck's own entries are in. */
  file: z.string(),
  entries: z.array(RegistryEntryViewSchema),
  external: z.array(ExternalRegistrySchema),
  /** The effective settings of every registry named above, each with its origin. */
  effective: z.array(RegistrySettingsReportSchema),
});
export type RegistrySettingsList = z.infer<typeof RegistrySettingsListSchema>;

/**
 * An entry to write into config.json: the object form, except that a header without a value keeps the
 * stored value of that header (a secret the page never saw), and a proxy equal to the redacted form of
 * the stored one keeps the stored one (with its credentials).
 */
export const RegistryEntryInputSchema = z
  .object({
    host: RegistryHostSchema,
    plainHttp: z.boolean().optional(),
    insecure: z.boolean().optional(),
    blocked: z.boolean().optional(),
    ca: z.array(file).max(32).optional(),
    cert: file.optional(),
    key: file.optional(),
    headers: z
      .array(z.object({ name: headerName, value: headerValue.optional() }).strict())
      .max(64)
      .optional(),
    proxy: z.string().max(2048).optional(),
    mirrors: z.array(MirrorSchema).max(16).optional(),
    pullFromMirror: z.enum(PULL_FROM_MIRROR).optional(),
  })
  .strict()
  .refine((r) => (r.cert === undefined) === (r.key === undefined), { message: '"cert" and "key" go together', path: ['cert'] });
export type RegistryEntryInput = z.infer<typeof RegistryEntryInputSchema>;

export const RegistrySettingsSaveSchema = z
  .object({
    entry: RegistryEntryInputSchema,
    /** The entry's revision as listed: absent for a new entry (refused when the host already has one). */
    revision: z.string().max(128).optional(),
    /** The host the entry had, when it is renamed. */
    previousHost: RegistryHostSchema.optional(),
  })
  .strict();
export const RegistrySettingsRemoveSchema = z.object({ host: RegistryHostSchema, revision: z.string().max(128).optional() }).strict();
