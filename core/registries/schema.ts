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
