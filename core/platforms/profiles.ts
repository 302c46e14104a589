/**
 * Platform profiles are data: the built-in ones ship in assets/platforms/*.json, users add or override
 * profiles in <config dir>/platforms/*.json. Every file is checked against PlatformProfileSchema (the
 * same schema as assets/platforms/profile.schema.json, which is generated from it).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { assetPath } from '../config/package.js';
import type { FlightDeckPaths } from '../config/paths.js';
import { PlatformProfileSchema, type PlatformEntry, type PlatformProfile } from './schema.js';

export const PROFILE_SCHEMA_FILE = 'profile.schema.json';

/** Bytes a payload may use on the platform: total memory minus the runtime's reserve. */
export function budgetBytes(p: PlatformProfile): number {
  return p.memory.total - p.memory.runtimeReserve;
}

/** Built-in profiles, then user profiles (a user profile with a built-in id replaces it). */
export async function loadProfiles(paths: FlightDeckPaths): Promise<PlatformEntry[]> {
  const byId = new Map<string, PlatformEntry>();
  for (const [, profile] of await readProfileDir(assetPath('platforms'), true)) {
    byId.set(profile.id, { profile, budgetBytes: budgetBytes(profile), source: 'builtin' });
  }
  for (const [file, profile] of await readProfileDir(path.join(paths.config, 'platforms'), false)) {
    byId.set(profile.id, { profile, budgetBytes: budgetBytes(profile), source: file });
  }
  return [...byId.values()];
}

export async function findProfiles(paths: FlightDeckPaths, ids: string[]): Promise<PlatformEntry[]> {
  const all = await loadProfiles(paths);
  return ids.map((id) => {
    const entry = all.find((e) => e.profile.id === id);
    if (!entry) {
      throw new FlightDeckError('PLATFORM_UNKNOWN', `Unknown platform "${id}"; known: ${all.map((e) => e.profile.id).join(', ')}.`, {
        details: { platform: id },
      });
    }
    return entry;
  });
}

async function readProfileDir(dir: string, required: boolean): Promise<Array<[string, PlatformProfile]>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && n !== PROFILE_SCHEMA_FILE).sort();
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FlightDeckError('IO_ERROR', `Cannot list platform profiles in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const out: Array<[string, PlatformProfile]> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    out.push([file, parseProfile(file, await readFile(file, 'utf8'))]);
  }
  return out;
}

export function parseProfile(file: string, text: string): PlatformProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FlightDeckError('CONFIG_INVALID', `Platform profile ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = PlatformProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlightDeckError('CONFIG_INVALID', `Platform profile ${file}: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`, {
      hint: 'Compare the file with assets/platforms/profile.schema.json and docs/platforms.md.',
    });
  }
  return parsed.data;
}
