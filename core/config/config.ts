import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import type { FlightDeckPaths } from './paths.js';
import { RegistryConfigSchema } from '../registries/schema.js';
import { DEFAULT_PRUNE_GRACE_SECONDS } from './defaults.js';

export const DEFAULT_RETRY = { attempts: 12, maxDelaySeconds: 10 } as const;
export { DEFAULT_PRUNE_GRACE_SECONDS } from './defaults.js';

export const ConfigSchema = z
  .object({
    /**
     * Registries the user works with: `host[:port]`, or an object with per-registry connection settings
     * (TLS files, proxy, headers, mirrors; core/registries/schema.ts, docs/registries.md). Doctor checks them.
     */
    registries: z.array(RegistryConfigSchema).max(256).default([]),
    /** Registries reached over plain HTTP (besides localhost, which always is). */
    plainHttp: z.array(z.string().min(1).max(255)).default([]),
    /**
     * Registry retries (network errors, 5xx, 429, a blob download that broke off): `attempts` after the
     * first, waits doubling from 0.25 s up to `maxDelaySeconds`. The defaults ride out an outage of at
     * least 30 s (retryWindowMs); a pull that still fails keeps its partial blobs for the next one.
     */
    retry: z
      .object({
        attempts: z.number().int().min(0).max(100).default(DEFAULT_RETRY.attempts),
        maxDelaySeconds: z.number().min(0.01).max(300).default(DEFAULT_RETRY.maxDelaySeconds),
      })
      .strict()
      .default({ ...DEFAULT_RETRY }),
    /** `cache prune` never deletes a blob or partial download younger than `graceSeconds` (in-flight pulls). */
    prune: z
      .object({
        graceSeconds: z
          .number()
          .int()
          .min(0)
          .max(365 * 86_400)
          .default(DEFAULT_PRUNE_GRACE_SECONDS),
      })
      .strict()
      .default({ graceSeconds: DEFAULT_PRUNE_GRACE_SECONDS }),
  })
  .strict();
export type Config = z.infer<typeof ConfigSchema>;

export function configFile(paths: FlightDeckPaths): string {
  return path.join(paths.config, 'config.json');
}

/** Read config.json; a missing file means defaults, a broken one is CONFIG_INVALID naming the file. */
export async function loadConfig(paths: FlightDeckPaths): Promise<Config> {
  const file = configFile(paths);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ConfigSchema.parse({});
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigText(text, file).config;
}

/** Parse config.json's text: the validated config (defaults filled in) and the JSON as written. */
export function parseConfigText(text: string, file: string): { config: Config; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FlightDeckError('CONFIG_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = deepestIssue(parsed.error.issues);
    const where = issue?.path.length ? issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') : 'root';
    throw new FlightDeckError('CONFIG_INVALID', `${file}: ${where}: ${issue?.message ?? 'invalid'}`, { details: { file, path: where } });
  }
  return { config: parsed.data, json };
}

type Issue = { path: PropertyKey[]; message: string; errors?: Issue[][] };

/** A union's failure names the branch that got furthest (e.g. `registries[1].proxy`), not just the union. */
function deepestIssue(issues: readonly Issue[]): Issue | undefined {
  let best: Issue | undefined;
  for (const issue of issues) {
    const nested = issue.errors?.map((branch) => deepestIssue(branch)).filter((i): i is Issue => i !== undefined) ?? [];
    const candidates = nested.length ? nested.map((n) => ({ ...n, path: [...issue.path, ...n.path] })) : [issue];
    for (const c of candidates) if (!best || c.path.length > best.path.length) best = c;
  }
  return best;
}

/** The host of each `registries` entry, in order. */
export function registryHosts(config: Config): string[] {
  return config.registries.map((r) => (typeof r === 'string' ? r : r.host));
}
