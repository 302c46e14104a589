import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import type { FlightDeckPaths } from './paths.js';

export const ConfigSchema = z
  .object({
    /** Registries the user works with (host[:port]); doctor checks their reachability. */
    registries: z.array(z.string().min(1).max(255)).default([]),
    /** Registries reached over plain HTTP (besides localhost, which always is). */
    plainHttp: z.array(z.string().min(1).max(255)).default([]),
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
    throw new FlightDeckError(
      'CONFIG_INVALID',
      `${file}: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
