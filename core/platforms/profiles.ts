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

/** Edit distance (insertions, deletions, substitutions) of two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known id a mistyped one most likely meant: within 2 edits (1 for short ids), the nearest; none when it is a tie. */
export function closest(id: string, known: string[]): string | undefined {
  const typed = id.toLowerCase().slice(0, 64);
  const ranked = known.map((k) => ({ k, d: distance(typed, k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = ranked[0];
  if (!best || best.d > (typed.length <= 4 ? 1 : 2) || ranked[1]?.d === best.d) return undefined;
  return best.k;
}

export async function findProfiles(paths: FlightDeckPaths, ids: string[]): Promise<PlatformEntry[]> {
  const all = await loadProfiles(paths);
  return ids.map((id) => {
    const entry = all.find((e) => e.profile.id === id);
    if (!entry) {
      const known = all.map((e) => e.profile.id);
      const near = closest(id, known);
      throw new FlightDeckError('PLATFORM_UNKNOWN', `Unknown platform "${id}"${near ? `; did you mean "${near}"?` : ''} Known: ${known.join(', ')}.`, {
        ...(near ? { hint: `Did you mean ${near}? \`flightdeck platforms\` lists the known platform ids.` } : {}),
        details: { platform: id, ...(near ? { suggestion: near } : {}) },
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
