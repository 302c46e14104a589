/**
 * containers-registries.conf(5) version 2, as skopeo/podman/buildah read it: `[[registry]]` tables with
 * `prefix` / `location` / `insecure` / `blocked` and `[[registry.mirror]]` tables (`location`, `insecure`,
 * `pull-from-mirror`). Parsed with smol-toml; the first file found of: `--registries-conf FILE`,
 * CONTAINERS_REGISTRIES_CONF, `$XDG_CONFIG_HOME/containers/registries.conf` (~/.config/...),
 * /etc/containers/registries.conf. Keys Flight Deck does not use (unqualified-search-registries, aliases,
 * short-name-mode, credential-helpers) are ignored; v1 files (`[registries.search]`) are refused.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import { PULL_FROM_MIRROR } from './schema.js';

const MirrorToml = z
  .object({
    location: z.string().min(1).max(1024),
    insecure: z.boolean().optional(),
    'pull-from-mirror': z.enum(PULL_FROM_MIRROR).optional(),
  })
  .passthrough();

const RegistryToml = z
  .object({
    prefix: z.string().max(1024).optional(),
    location: z.string().max(1024).optional(),
    insecure: z.boolean().optional(),
    blocked: z.boolean().optional(),
    'mirror-by-digest-only': z.boolean().optional(),
    mirror: z.array(MirrorToml).max(64).optional(),
  })
  .passthrough()
  .refine((r) => r.prefix !== undefined || r.location !== undefined, { message: 'a [[registry]] needs "prefix" or "location"' });

const FileToml = z
  .object({
    registry: z.array(RegistryToml).max(1024).optional(),
    registries: z.unknown().optional(),
  })
  .passthrough();

export interface ConfMirror {
  location: string;
  insecure: boolean;
  pullFromMirror: (typeof PULL_FROM_MIRROR)[number];
}

export interface ConfRegistry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: ConfMirror[];
}

export interface RegistriesConf {
  file: string;
  registries: ConfRegistry[];
}

/** The registries.conf to read and how it was chosen; `explicit` files must exist. */
export function registriesConfPath(flag: string | undefined, env: NodeJS.ProcessEnv): { file: string; explicit: boolean; from: string }[] {
  if (flag) return [{ file: path.resolve(flag), explicit: true, from: '--registries-conf' }];
  if (env.CONTAINERS_REGISTRIES_CONF) return [{ file: path.resolve(env.CONTAINERS_REGISTRIES_CONF), explicit: true, from: 'CONTAINERS_REGISTRIES_CONF' }];
  const xdg = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return [
    { file: path.join(xdg, 'containers', 'registries.conf'), explicit: false, from: 'user registries.conf' },
    { file: '/etc/containers/registries.conf', explicit: false, from: 'system registries.conf' },
  ];
}

/** Parse one registries.conf text; errors are CONFIG_INVALID naming `file` and the place inside it. */
export function parseRegistriesConf(text: string, file: string): RegistriesConf {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw new FlightDeckError('CONFIG_INVALID', `${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, { cause: err, details: { file } });
  }
  const parsed = FileToml.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw new FlightDeckError('CONFIG_INVALID', `${file}: ${where.replace(/^\./, '') || 'root'}: ${issue?.message ?? 'invalid'}`, {
      details: { file, path: where },
    });
  }
  if (parsed.data.registries !== undefined) {
    throw new FlightDeckError('CONFIG_INVALID', `${file} is a version 1 registries.conf ([registries.*]); Flight Deck reads version 2 ([[registry]]).`, {
      hint: 'Convert it to the [[registry]] format of containers-registries.conf(5).',
      details: { file },
    });
  }
  const registries = (parsed.data.registry ?? []).map((r, i): ConfRegistry => {
    const prefix = normalizePrefix(r.prefix ?? r.location ?? '');
    const location = normalizePrefix(r.location ?? r.prefix ?? '');
    if (!prefix) throw new FlightDeckError('CONFIG_INVALID', `${file}: registry[${i}]: empty prefix`, { details: { file, path: `registry[${i}]` } });
    const byDigest = r['mirror-by-digest-only'] === true;
    return {
      prefix,
      location,
      insecure: r.insecure ?? false,
      blocked: r.blocked ?? false,
      mirrors: (r.mirror ?? []).map((m) => ({
        location: normalizePrefix(m.location),
        insecure: m.insecure ?? false,
        pullFromMirror: m['pull-from-mirror'] ?? (byDigest ? 'digest-only' : 'all'),
      })),
    };
  });
  return { file, registries };
}

/** Read the first registries.conf that exists; undefined when none does. */
export async function loadRegistriesConf(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<RegistriesConf | undefined> {
  for (const c of registriesConfPath(flag, env)) {
    let text: string;
    try {
      text = await readFile(c.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!c.explicit && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) continue;
      throw new FlightDeckError('CONFIG_INVALID', `Cannot read ${c.file} (${c.from}): ${code ?? (err as Error).message}`, {
        cause: err,
        details: { file: c.file },
      });
    }
    return parseRegistriesConf(text, c.file);
  }
  return undefined;
}

function normalizePrefix(p: string): string {
  return p
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

/**
 * The entry for `host/repository` as containers/image picks it: the longest matching prefix, where a
 * prefix matches at a `/` boundary (or the whole name), and `*.example.com` matches subdomains of the host.
 */
export function matchRegistry(conf: RegistriesConf | undefined, host: string, repository = ''): ConfRegistry | undefined {
  if (!conf) return undefined;
  const name = repository ? `${host}/${repository}` : host;
  let best: ConfRegistry | undefined;
  let bestLen = -1;
  for (const r of conf.registries) {
    let len = -1;
    if (r.prefix.startsWith('*.')) {
      const hostOnly = host.replace(/:\d+$/, '');
      if (hostOnly.endsWith(r.prefix.slice(1))) len = r.prefix.length;
    } else if (name === r.prefix || name.startsWith(`${r.prefix}/`) || host === r.prefix) {
      len = r.prefix.length;
    }
    if (len > bestLen) {
      best = r;
      bestLen = len;
    }
  }
  return best;
}
