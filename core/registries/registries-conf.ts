/**
 * containers-registries.conf(5) version 2 and its drop-in folders (containers-registries.conf.d(5)), as
 * skopeo/podman/buildah read them (containers/image pkg/sysregistriesv2): `[[registry]]` tables with
 * `prefix` / `location` / `insecure` / `blocked` and `[[registry.mirror]]` tables (`location`, `insecure`,
 * `pull-from-mirror`), `unqualified-search-registries`, `short-name-mode` and `[aliases]`. Parsed with
 * smol-toml. Which files are read (docs/registries.md):
 *   - `--registries-conf FILE`, else CONTAINERS_REGISTRIES_CONF: that file (it must exist), then the
 *     drop-ins of `FILE.d/`;
 *   - else `$XDG_CONFIG_HOME/containers/registries.conf` (~/.config/...) when it exists, then the drop-ins
 *     of its `.d/` only;
 *   - else /etc/containers/registries.conf (when it exists), then the drop-ins of
 *     /etc/containers/registries.conf.d/ and of the user's registries.conf.d/.
 * Drop-ins are the `*.conf` files of a folder (not its sub-folders), read in lexical order, each merged
 * over what came before: a `[[registry]]` with the same prefix replaces the earlier one, a set
 * `unqualified-search-registries` or `short-name-mode` replaces the earlier value, `[aliases]` merge by
 * name (an empty value erases the alias). Every setting remembers the file it came from.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import { isHost, isRepository } from '../oci/reference.js';
import { PULL_FROM_MIRROR } from './schema.js';

const MirrorToml = z
  .object({
    location: z.string().max(1024),
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
    'pull-from-mirror': z.unknown().optional(),
    mirror: z.array(MirrorToml).max(64).optional(),
  })
  .passthrough();

export const SHORT_NAME_MODES = ['enforcing', 'permissive', 'disabled'] as const;
export type ShortNameMode = (typeof SHORT_NAME_MODES)[number];

const FileToml = z
  .object({
    registry: z.array(RegistryToml).max(1024).optional(),
    registries: z.unknown().optional(),
    'unqualified-search-registries': z.array(z.string().max(1024)).max(256).optional(),
    'short-name-mode': z.enum([...SHORT_NAME_MODES, '']).optional(),
    aliases: z.record(z.string().max(1024), z.string().max(1024)).optional(),
  })
  .passthrough();

export interface ConfMirror {
  location: string;
  insecure: boolean;
  pullFromMirror: (typeof PULL_FROM_MIRROR)[number];
}

export interface ConfRegistry {
  prefix: string;
  /** The physical location of the prefix-rooted namespace; empty only for a `*.example.com` prefix (no rewrite). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: ConfMirror[];
  /** The file this table was read from (the main file or a drop-in). */
  file: string;
}

/** `[aliases]` value: a fully-qualified `host/repo` without tag or digest, or null when a later file erased it. */
export interface ConfAlias {
  value: string | null;
  file: string;
}

export interface RegistriesConf {
  /** The main file (or, without one, the first drop-in): named in messages. */
  file: string;
  /** Every file read, in the order they were merged. */
  files: string[];
  registries: ConfRegistry[];
  unqualifiedSearchRegistries: { value: string[]; file: string } | undefined;
  shortNameMode: { value: ShortNameMode; file: string } | undefined;
  aliases: Map<string, ConfAlias>;
}

interface Candidate {
  file: string;
  explicit: boolean;
  from: string;
}

/** Which registries.conf and which drop-in folders are read (`systemConf`: only tests move it). */
export async function registriesConfPlan(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  systemConf = '/etc/containers/registries.conf',
): Promise<{ main: Candidate; dirs: string[] }> {
  if (flag) {
    const file = path.resolve(flag);
    return { main: { file, explicit: true, from: '--registries-conf' }, dirs: [`${file}.d`] };
  }
  if (env.CONTAINERS_REGISTRIES_CONF) {
    const file = path.resolve(env.CONTAINERS_REGISTRIES_CONF);
    return { main: { file, explicit: true, from: 'CONTAINERS_REGISTRIES_CONF' }, dirs: [`${file}.d`] };
  }
  const xdg = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  const user = path.join(xdg, 'containers', 'registries.conf');
  if (await exists(user)) return { main: { file: user, explicit: false, from: 'user registries.conf' }, dirs: [`${user}.d`] };
  return { main: { file: systemConf, explicit: false, from: 'system registries.conf' }, dirs: [`${systemConf}.d`, `${user}.d`] };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function invalidAt(file: string, where: string, why: string, hint?: string): FlightDeckError {
  return new FlightDeckError('CONFIG_INVALID', `${file}: ${where}: ${why}`, { ...(hint ? { hint } : {}), details: { file, path: where } });
}

/**
 * A `prefix` or `location` as containers/image's parseLocation takes it: trailing `/` removed, no URI
 * scheme; lower case (host names are case-insensitive, repositories lower case).
 */
function parseLocation(value: string, file: string, where: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (/^https?:\/\//i.test(trimmed)) throw invalidAt(file, where, `${JSON.stringify(value)}: URI schemes are not supported (write host[:port][/namespace])`);
  return trimmed.toLowerCase();
}

/** `host[:port]/repo` (no tag or digest), as an alias value must be. */
function isQualifiedName(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const host = value.slice(0, slash);
  return isHost(host) && (host.includes('.') || host.includes(':') || host === 'localhost') && isRepository(value.slice(slash + 1));
}

/** A short name: a repository whose first component is not a registry host (no `.`, `:`, not localhost). */
export function isShortName(name: string): boolean {
  if (!isRepository(name)) return false;
  const first = name.split('/')[0] as string;
  return !(first.includes('.') || first.includes(':') || first === 'localhost');
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
    const at = `registry[${i}]`;
    const location = r.location === undefined ? '' : parseLocation(r.location, file, `${at}.location`);
    let prefix: string;
    if (r.prefix === undefined || r.prefix.trim() === '') {
      if (!location) throw invalidAt(file, at, 'both "location" and "prefix" are unset');
      prefix = location;
    } else {
      prefix = parseLocation(r.prefix, file, `${at}.prefix`);
      if (!prefix.startsWith('*.') && !location)
        throw invalidAt(file, at, `"location" is unset and prefix ${JSON.stringify(prefix)} is not of the form *.example.com`);
    }
    if (prefix.startsWith('*.') && /[/@:]/.test(prefix)) {
      throw invalidAt(file, `${at}.prefix`, `a wildcard prefix is *.example.com, without port, namespace, tag or digest (got ${JSON.stringify(prefix)})`);
    }
    if (r['pull-from-mirror'] !== undefined)
      throw invalidAt(file, at, '"pull-from-mirror" belongs in a [[registry.mirror]] table, not in the [[registry]] itself');
    const byDigest = r['mirror-by-digest-only'] === true;
    const mirrors = (r.mirror ?? []).map((m, j): ConfMirror => {
      const where = `${at}.mirror[${j}]`;
      const loc = parseLocation(m.location, file, `${where}.location`);
      if (!loc) throw invalidAt(file, `${where}.location`, 'the mirror location is empty');
      if (byDigest && m['pull-from-mirror'] !== undefined) {
        throw invalidAt(file, where, '"mirror-by-digest-only" of the registry and "pull-from-mirror" of a mirror cannot be set together');
      }
      return { location: loc, insecure: m.insecure ?? false, pullFromMirror: m['pull-from-mirror'] ?? (byDigest ? 'digest-only' : 'all') };
    });
    return { prefix, location, insecure: r.insecure ?? false, blocked: r.blocked ?? false, mirrors, file };
  });
  // containers/image: one location named by several tables must agree on insecure and blocked.
  for (const a of registries) {
    for (const b of registries) {
      const key = (r: ConfRegistry) => r.location || r.prefix;
      if (a !== b && key(a) === key(b) && (a.insecure !== b.insecure || a.blocked !== b.blocked)) {
        throw invalidAt(
          file,
          'registry',
          `${key(a)} is defined more than once with conflicting "${a.insecure !== b.insecure ? 'insecure' : 'blocked'}" settings`,
        );
      }
    }
  }
  let unqualifiedSearchRegistries: RegistriesConf['unqualifiedSearchRegistries'];
  const search = parsed.data['unqualified-search-registries'];
  if (search !== undefined) {
    const value = search.map((s, i) => {
      const host = parseLocation(s, file, `unqualified-search-registries[${i}]`);
      if (!isHost(host)) throw invalidAt(file, `unqualified-search-registries[${i}]`, `${JSON.stringify(s)} is not a registry host[:port]`);
      return host;
    });
    unqualifiedSearchRegistries = { value, file };
  }
  const mode = parsed.data['short-name-mode'];
  const aliases = new Map<string, ConfAlias>();
  for (const [name, value] of Object.entries(parsed.data.aliases ?? {})) {
    if (!isShortName(name)) {
      throw invalidAt(file, `aliases.${name}`, `${JSON.stringify(name)} is not a short name (a repository without registry, tag or digest)`);
    }
    if (value !== '' && !isQualifiedName(value.toLowerCase())) {
      throw invalidAt(file, `aliases.${name}`, `${JSON.stringify(value)} must be a fully-qualified name, host[:port]/repository, without tag or digest`);
    }
    aliases.set(name, { value: value === '' ? null : value.toLowerCase(), file });
  }
  return {
    file,
    files: [file],
    registries,
    unqualifiedSearchRegistries,
    shortNameMode: mode ? { value: mode, file } : undefined,
    aliases,
  };
}

/**
 * `updates` (a drop-in) merged over `base`, as containers-registries.conf.d(5) says: "Specified fields in a
 * conf file will overwrite any previous setting"; "the [[registry]] tables merged by overwriting existing
 * items if the prefixes are identical while new ones are added"; aliases merge by name.
 */
export function mergeRegistriesConf(base: RegistriesConf, updates: RegistriesConf): RegistriesConf {
  const byPrefix = new Map<string, ConfRegistry>();
  for (const r of base.registries) byPrefix.set(r.prefix, r);
  for (const r of updates.registries) byPrefix.set(r.prefix, r);
  // Sorted by prefix, as containers/image keeps them (ties of the longest match resolve the same way).
  const registries = [...byPrefix.keys()].sort().map((p) => byPrefix.get(p) as ConfRegistry);
  const aliases = new Map(base.aliases);
  for (const [name, a] of updates.aliases) aliases.set(name, a);
  return {
    file: base.file,
    files: [...base.files, ...updates.files],
    registries,
    unqualifiedSearchRegistries: updates.unqualifiedSearchRegistries ?? base.unqualifiedSearchRegistries,
    shortNameMode: updates.shortNameMode ?? base.shortNameMode,
    aliases,
  };
}

async function readConfFile(c: Candidate): Promise<RegistriesConf | undefined> {
  let text: string;
  try {
    text = await readFile(c.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!c.explicit && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) return undefined;
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read ${c.file} (${c.from}): ${code ?? (err as Error).message}`, {
      cause: err,
      details: { file: c.file },
    });
  }
  return parseRegistriesConf(text, c.file);
}

/** The `*.conf` files of a drop-in folder, in lexical order (sub-folders and other files are ignored). */
async function dropIns(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read the registries.conf.d folder ${dir}: ${code ?? (err as Error).message}`, {
      cause: err,
      details: { file: dir },
    });
  }
  return entries
    .filter((e) => !e.isDirectory() && e.name.endsWith('.conf'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => path.join(dir, n));
}

/**
 * Read the registries.conf and its drop-ins (see the top of this file); undefined when none exists.
 * `systemConf` moves /etc/containers/registries.conf (tests only).
 */
export async function loadRegistriesConf(flag: string | undefined, env: NodeJS.ProcessEnv, systemConf?: string): Promise<RegistriesConf | undefined> {
  const plan = await registriesConfPlan(flag, env, systemConf);
  let conf = await readConfFile(plan.main);
  for (const dir of plan.dirs) {
    for (const file of await dropIns(dir)) {
      // A drop-in removed between the listing and the read is skipped, as containers/image does.
      const next = await readConfFile({ file, explicit: false, from: 'registries.conf.d' });
      if (next) conf = conf ? mergeRegistriesConf(conf, next) : next;
    }
  }
  return conf;
}

/**
 * How much of `name` (`host[:port]/repo[:tag|@digest]`) `prefix` matches, or -1 (containers/image
 * refMatchingPrefix): the name starts with the prefix and continues with `/`, `:` or `@` (or ends there);
 * `*.example.com` matches any subdomain of example.com, with any port (the whole host component).
 */
export function prefixMatch(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const suffix = prefix.slice(1);
    const host = name.split('/')[0] as string;
    const bare = host.replace(/:\d+$/, '');
    if (!bare.endsWith(suffix) || bare.length === suffix.length) return -1;
    // The whole host component, port included, is what the wildcard stands for (containers/image would
    // leave the port behind, after the location).
    return host.length;
  }
  if (name === prefix) return prefix.length;
  if (!name.startsWith(prefix)) return -1;
  const c = name[prefix.length];
  // `:` after a host-only prefix would be a port: "example.com" does not match "example.com:5000/x".
  if (c === '/' || c === '@' || (c === ':' && prefix.includes('/'))) return prefix.length;
  return -1;
}

/** The table for `name` as containers/image picks it: the longest matching prefix. */
export function findRegistry(conf: RegistriesConf | undefined, name: string): ConfRegistry | undefined {
  let best: ConfRegistry | undefined;
  let bestLen = 0;
  for (const r of conf?.registries ?? []) {
    if (prefixMatch(name, r.prefix) >= 0 && r.prefix.length > bestLen) {
      best = r;
      bestLen = r.prefix.length;
    }
  }
  return best;
}

/** The table for `host/repository` (or the host alone). */
export function matchRegistry(conf: RegistriesConf | undefined, host: string, repository = ''): ConfRegistry | undefined {
  return findRegistry(conf, repository ? `${host}/${repository}` : host);
}

/**
 * `host/repository` with the matched `prefix` replaced by `location` ("requests for the image
 * example.com/foo/myimage:latest will actually work with the internal-registry-for-example.com/bar/myimage:latest
 * image"); an empty location (wildcard prefix) leaves the name as it is. The result is checked like any
 * reference: a location that makes no valid name is CONFIG_INVALID naming `file`.
 */
export function rewriteLocation(host: string, repository: string, prefix: string, location: string, file: string): { registry: string; repository: string } {
  const name = repository ? `${host}/${repository}` : host;
  const len = prefixMatch(name, prefix);
  if (len < 0 || !location) return { registry: host, repository };
  const rewritten = location + name.slice(len);
  const slash = rewritten.indexOf('/');
  const registry = slash < 0 ? rewritten : rewritten.slice(0, slash);
  const repo = slash < 0 ? '' : rewritten.slice(slash + 1);
  // A host alone (a catalog listing) may become a host or a namespace; a repository stays a repository.
  if (!isHost(registry) || (repo ? !isRepository(repo) : repository !== '')) {
    throw new FlightDeckError(
      'CONFIG_INVALID',
      `${file}: location ${JSON.stringify(location)} turns ${name} into ${JSON.stringify(rewritten)}, which is not a registry reference.`,
      {
        hint: 'A location is host[:port][/namespace]; the rest of the name is appended to it.',
        details: { file, location },
      },
    );
  }
  return { registry, repository: repo };
}

/**
 * A short name (`app`, `flight/app:1`, `app@sha256:…`: no registry host) expanded as containers/image
 * resolves it: an `[aliases]` entry first ("tags and digests are stripped off a user-specified short name
 * for alias resolution … and later appended to the resolved alias"); without one, and only when `search`
 * is allowed, the one `unqualified-search-registries` entry. Flight Deck never guesses among several (as
 * short-name-mode "enforcing" without a terminal): REFERENCE_AMBIGUOUS names the candidates.
 * Undefined: not a short name (left to the reference parser), or no alias and `search` not allowed.
 */
export function expandShortName(input: string, conf: RegistriesConf | undefined, search: boolean): { reference: string; from: string } | undefined {
  const text = input.trim();
  if (text.startsWith('oci:')) return undefined;
  const at = text.indexOf('@');
  let name = at < 0 ? text : text.slice(0, at);
  let suffix = at < 0 ? '' : text.slice(at);
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    suffix = name.slice(colon) + suffix;
    name = name.slice(0, colon);
  }
  if (!isShortName(name)) return undefined;
  const alias = conf?.aliases.get(name);
  if (alias?.value) return { reference: `${alias.value}${suffix}`, from: `${alias.file} [aliases] ${name}` };
  if (!search) return undefined;
  const list = conf?.unqualifiedSearchRegistries;
  if (list && list.value.length === 1) return { reference: `${list.value[0]}/${name}${suffix}`, from: `${list.file} unqualified-search-registries` };
  if (list && list.value.length > 1) {
    const candidates = list.value.map((r) => `${r}/${name}${suffix}`);
    throw new FlightDeckError(
      'REFERENCE_AMBIGUOUS',
      `${JSON.stringify(text)} is a short name (no registry) and could be any of ${candidates.join(', ')} (unqualified-search-registries in ${list.file}); Flight Deck does not guess.`,
      {
        hint: `Write the full reference, e.g. ${candidates[0]}, or add an alias to registries.conf: [aliases] "${name}" = "${list.value[0]}/${name}".`,
        details: { reference: text, candidates },
      },
    );
  }
  throw new FlightDeckError(
    'REFERENCE_INVALID',
    `${JSON.stringify(text)} is a short name: it names no registry host, and no registries.conf alias or unqualified-search-registries entry resolves it.`,
    {
      hint: `Write host[:port]/repo[:tag], or add an alias to registries.conf: [aliases] "${name}" = "registry.example.com/${name}" (docs/registries.md).`,
      details: { reference: text },
    },
  );
}
