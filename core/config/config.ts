import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import type { FlightDeckPaths } from './paths.js';

export const DEFAULT_RETRY = { attempts: 12, maxDelaySeconds: 10 } as const;
export const DEFAULT_PRUNE_GRACE_SECONDS = 3600;

export const ConfigSchema = z
  .object({
    /** Registries the user works with (host[:port]); doctor checks their reachability. */
    registries: z.array(z.string().min(1).max(255)).default([]),
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FlightDeckError('CONFIG_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlightDeckError('CONFIG_INVALID', `${file}: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
