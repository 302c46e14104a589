/**
 * Flight Deck's own registry entries in config.json, as Settings → Registries lists and edits them, and
 * the settings the user's other tools' files give (registries.conf, certs.d), listed read-only.
 *
 * An edit is a read-modify-write of config.json under a cross-process lock (`config.json.lock`, the
 * content store's lock: core/oci/lock.ts), written atomically (temp file, fsync, rename): two Flight
 * Deck processes editing different entries keep both edits, and an edit of an entry that changed since
 * the page listed it (its `revision`) is refused with CONFIG_CHANGED instead of overwriting the other
 * edit. Keys of config.json other than `registries` are kept as written.
 *
 * Secrets stay where they are: a header whose name looks like a credential (isSecretHeader) is listed
 * without its value, and the page keeps it by sending the header back without a value; a proxy's
 * credentials are listed redacted, and the redacted form sent back keeps the stored proxy.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigSchema, parseConfigText, type Config } from '../config/config.js';
import { registerSecret } from '../credentials/redact.js';
import { FlightDeckError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { withLock } from '../oci/lock.js';
import { redactProxy } from '../oci/proxy.js';
import { PemFileError, readPemFile, tlsRefusal, type PemKind } from './pem-files.js';
import type { RegistriesConf } from './registries-conf.js';
import { certsRoots, settingsReport, type ResolvedRegistry } from './settings.js';
import {
  isSecretHeader,
  ProxyUrlSchema,
  RegistryEntrySchema,
  type ExternalRegistry,
  type RegistryConfig,
  type RegistryEntry,
  type RegistryEntryInput,
  type RegistryEntryView,
  type RegistrySettingsList,
  type RegistrySettingsReport,
} from './schema.js';

const hostOf = (r: RegistryConfig): string => (typeof r === 'string' ? r : r.host).toLowerCase();

/** A stable hash of one stored entry (key order ignored), the entry's revision for compare-and-swap. */
export function entryRevision(r: RegistryConfig): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(r)))
    .digest('hex')
    .slice(0, 32);
}

function proxyView(proxy: string | undefined): string | undefined {
  if (proxy === undefined || proxy === 'direct') return proxy;
  try {
    return redactProxy(new URL(proxy));
  } catch {
    return '(invalid)';
  }
}

/** A stored entry as the page sees it: secret header values and proxy credentials left out. */
export function entryView(r: RegistryConfig): RegistryEntryView {
  const e: RegistryEntry = typeof r === 'string' ? { host: r } : r;
  const headers = Object.entries(e.headers ?? {}).map(([name, value]) => {
    if (!isSecretHeader(name)) return { name, value, secret: false };
    registerSecret(value);
    return { name, secret: true };
  });
  const proxy = proxyView(e.proxy);
  return {
    host: e.host.toLowerCase(),
    ...(e.plainHttp !== undefined ? { plainHttp: e.plainHttp } : {}),
    ...(e.insecure !== undefined ? { insecure: e.insecure } : {}),
    ...(e.blocked !== undefined ? { blocked: e.blocked } : {}),
    ca: e.ca === undefined ? [] : Array.isArray(e.ca) ? e.ca : [e.ca],
    ...(e.cert !== undefined ? { cert: e.cert } : {}),
    ...(e.key !== undefined ? { key: e.key } : {}),
    headers,
    ...(proxy !== undefined ? { proxy } : {}),
    mirrors: e.mirrors ?? [],
    ...(e.pullFromMirror !== undefined ? { pullFromMirror: e.pullFromMirror } : {}),
    revision: entryRevision(r),
  };
}

/** What registries.conf and the certs.d roots set, per registry (shown read-only). */
export async function externalRegistries(conf: RegistriesConf | undefined, env: NodeJS.ProcessEnv): Promise<ExternalRegistry[]> {
  const out: ExternalRegistry[] = [];
  for (const r of conf?.registries ?? []) {
    const settings = [`prefix ${r.prefix}`];
    if (r.location && r.location !== r.prefix) settings.push(`location ${r.location}`);
    if (r.insecure) settings.push('insecure');
    if (r.blocked) settings.push('blocked');
    for (const m of r.mirrors) settings.push(`mirror ${m.location}${m.insecure ? ' (insecure)' : ''} (${m.pullFromMirror})`);
    out.push({ host: r.prefix.split('/')[0] as string, origin: 'registries.conf', from: r.file, settings });
  }
  for (const root of certsRoots(env)) {
    let hosts: string[];
    try {
      hosts = (await readdir(root)).sort();
    } catch {
      continue;
    }
    for (const host of hosts.slice(0, 256)) {
      const dir = path.join(root, host);
      let names: string[];
      try {
        if (!(await stat(dir)).isDirectory()) continue;
        names = (await readdir(dir)).sort();
      } catch {
        continue;
      }
      const settings = [
        ...names.filter((n) => n.endsWith('.crt')).map((n) => `CA ${n}`),
        ...names.filter((n) => n.endsWith('.cert')).map((n) => `client certificate ${n}`),
      ];
      if (settings.length) out.push({ host: host.toLowerCase(), origin: 'certs.d', from: dir, settings });
    }
  }
  return out;
}

export interface ListInput {
  file: string;
  config: Config;
  conf: RegistriesConf | undefined;
  env: NodeJS.ProcessEnv;
  settings: (host: string) => Promise<ResolvedRegistry>;
}

/** Flight Deck's entries, the other tools' ones and the effective settings of every registry named. */
export async function listRegistrySettings(input: ListInput): Promise<RegistrySettingsList> {
  const entries = input.config.registries.map(entryView);
  const external = await externalRegistries(input.conf, input.env);
  const hosts = [...new Set([...entries.map((e) => e.host), ...external.map((e) => e.host).filter((h) => !h.startsWith('*.'))])].slice(0, 256);
  const effective: RegistrySettingsReport[] = [];
  for (const host of hosts) {
    try {
      effective.push(settingsReport(await input.settings(host)));
    } catch (err) {
      const e = err as FlightDeckError;
      effective.push({
        host,
        blocked: false,
        scheme: 'https',
        insecure: false,
        ca: [],
        headers: [],
        proxy: 'direct',
        mirrors: [],
        pullFromMirror: 'all',
        sources: {},
        warnings: [`[${e.code ?? 'ERROR'}] ${e.message}`],
      });
    }
  }
  return { file: input.file, entries, external, effective };
}

/**
 * Read-modify-write of config.json's `registries` under the file's lock; `change` gets the entries as
 * written and returns the new list. The result is validated as a whole before it is written.
 */
async function updateRegistries(file: string, change: (current: RegistryConfig[]) => RegistryConfig[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await withLock(file, `${file}.lock`, async () => {
    let text: string | undefined;
    let mode = 0o600;
    try {
      text = await readFile(file, 'utf8');
      mode = (await stat(file)).mode & 0o777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new FlightDeckError('CONFIG_INVALID', `Cannot read ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
      }
    }
    // A broken file is reported, never overwritten: the user's other settings are in it.
    const json = (text === undefined ? {} : parseConfigText(text, file).json) as Record<string, unknown>;
    const current = ConfigSchema.parse(json).registries;
    const next = { ...json, registries: change(current) };
    const checked = ConfigSchema.safeParse(next);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      // `registries.3.mirrors.0.location` → the field `mirrors.0.location` of the entry.
      const field = issue && issue.path[0] === 'registries' && issue.path.length > 2 ? issue.path.slice(2).join('.') : undefined;
      throw new FlightDeckError('INVALID_INPUT', `The registry entry is not valid: ${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}`, {
        details: { file, ...(field ? { field } : {}) },
      });
    }
    try {
      await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FlightDeckError(code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR', `Cannot write ${file}: ${code ?? (err as Error).message}`, {
        cause: err,
        details: { file },
      });
    }
  });
}

function changed(host: string, file: string, what: string): FlightDeckError {
  return new FlightDeckError('CONFIG_CHANGED', `The entry of ${host} in ${file} ${what} since it was listed; your edit was not written.`, {
    details: { file, host },
  });
}

/** The entry to store: a header without a value keeps the stored value, a redacted proxy the stored proxy. */
function buildEntry(input: RegistryEntryInput, stored: RegistryEntry | undefined): RegistryEntry {
  const storedHeaders = Object.entries(stored?.headers ?? {});
  const headers: Record<string, string> = {};
  for (const [i, h] of (input.headers ?? []).entries()) {
    if (Object.keys(headers).some((n) => n.toLowerCase() === h.name.toLowerCase())) {
      throw new FlightDeckError('INVALID_INPUT', `Header ${h.name} is given twice.`, { details: { header: h.name, field: `headers.${i}.name` } });
    }
    const value = h.value ?? storedHeaders.find(([n]) => n.toLowerCase() === h.name.toLowerCase())?.[1];
    if (value === undefined) {
      throw new FlightDeckError('INVALID_INPUT', `Header ${h.name} has no value.`, { details: { header: h.name, field: `headers.${i}.value` } });
    }
    headers[h.name] = value;
  }
  let proxy: string | undefined;
  const given = input.proxy?.trim();
  if (given) {
    if (stored?.proxy !== undefined && given === proxyView(stored.proxy)) proxy = stored.proxy;
    else if (given === 'direct' || ProxyUrlSchema.safeParse(given).success) proxy = given;
    else
      throw new FlightDeckError('INVALID_INPUT', `The proxy of ${input.host} is not an http:// or https:// URL (or "direct").`, {
        details: { host: input.host, field: 'proxy' },
      });
  }
  const mirrors = input.mirrors
    ?.filter((m) => m.location.trim())
    .map((m) => ({ location: m.location.trim().toLowerCase(), ...(m.insecure ? { insecure: true } : {}) }));
  const ca = input.ca?.map((f) => f.trim()).filter(Boolean);
  const entry: RegistryEntry = {
    host: input.host.toLowerCase(),
    ...(input.plainHttp !== undefined ? { plainHttp: input.plainHttp } : {}),
    ...(input.insecure !== undefined ? { insecure: input.insecure } : {}),
    ...(input.blocked !== undefined ? { blocked: input.blocked } : {}),
    ...(ca?.length ? { ca } : {}),
    ...(input.cert !== undefined ? { cert: input.cert } : {}),
    ...(input.key !== undefined ? { key: input.key } : {}),
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
    ...(mirrors?.length ? { mirrors } : {}),
    ...(mirrors?.length && input.pullFromMirror ? { pullFromMirror: input.pullFromMirror } : {}),
  };
  const parsed = RegistryEntrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw new FlightDeckError('INVALID_INPUT', `The entry of ${input.host}: ${field ?? 'entry'}: ${issue?.message ?? 'invalid'}`, {
      details: { host: input.host, ...(field ? { field } : {}) },
    });
  }
  for (const [name, value] of Object.entries(headers)) if (isSecretHeader(name)) registerSecret(value);
  return parsed.data;
}

export interface SaveInput {
  entry: RegistryEntryInput;
  revision?: string | undefined;
  previousHost?: string | undefined;
}

/**
 * The CA, certificate and key files an entry names must be readable regular files holding the PEM block
 * they are named for, and OpenSSL must take them (a certificate and a key that belong together): checked
 * when the entry is saved, so the page says which field is wrong. Errors name the field and the path the
 * user gave and never anything read from the file (core/registries/pem-files.ts): the page, and the web
 * host, may name any file the user can read; its content never comes back.
 */
async function checkEntryFiles(configFile: string, entry: RegistryEntryInput): Promise<void> {
  const host = entry.host.toLowerCase();
  const refuse = (field: string, given: string, kind: PemKind, reason: string) =>
    new FlightDeckError(
      'INVALID_INPUT',
      `${kind === 'CA' ? 'The CA file' : kind === 'certificate' ? 'The client certificate' : 'The client key'} ${given} of ${host} ${reason}.`,
      {
        hint:
          kind === 'key'
            ? 'Name the PEM private key file (-----BEGIN PRIVATE KEY-----) of the client certificate; relative paths are taken from the folder of config.json.'
            : 'Name a PEM certificate file (-----BEGIN CERTIFICATE-----); relative paths are taken from the folder of config.json.',
        details: { host, field, file: given },
      },
    );
  const read = async (field: string, given: string, kind: PemKind): Promise<string> => {
    try {
      return await readPemFile(path.resolve(configFile, '..', given), kind);
    } catch (err) {
      if (err instanceof PemFileError) throw refuse(field, given, kind, err.reason);
      throw err;
    }
  };
  for (const [i, ca] of (entry.ca ?? []).entries()) {
    if (!ca.trim()) continue;
    const pem = await read(`ca.${i}`, ca.trim(), 'CA');
    const why = tlsRefusal({ ca: [pem] });
    if (why) throw refuse(`ca.${i}`, ca.trim(), 'CA', `cannot be used (${why})`);
  }
  if (entry.cert !== undefined && entry.key !== undefined) {
    const cert = await read('cert', entry.cert, 'certificate');
    const key = await read('key', entry.key, 'key');
    const why = tlsRefusal({ cert, key });
    if (why) throw refuse('key', entry.key, 'key', `cannot be used with the certificate ${entry.cert} (${why})`);
  }
}

/** Add (no revision) or replace (the revision listed) one entry of config.json. */
export async function saveRegistryEntry(file: string, input: SaveInput): Promise<void> {
  const host = input.entry.host.toLowerCase();
  await checkEntryFiles(file, input.entry);
  const previous = (input.previousHost ?? host).toLowerCase();
  await updateRegistries(file, (current) => {
    const at = current.findIndex((r) => hostOf(r) === previous);
    if (input.revision === undefined) {
      if (at >= 0) throw changed(previous, file, 'exists already (added meanwhile?)');
    } else {
      if (at < 0) throw changed(previous, file, 'was removed');
      if (entryRevision(current[at] as RegistryConfig) !== input.revision) throw changed(previous, file, 'was changed');
    }
    if (host !== previous && current.some((r) => hostOf(r) === host)) {
      throw new FlightDeckError('INVALID_INPUT', `${host} already has an entry in ${file}; edit that one.`, { details: { file, host } });
    }
    const stored = at >= 0 ? current[at] : undefined;
    const entry = buildEntry(input.entry, typeof stored === 'object' ? stored : undefined);
    const next = [...current];
    if (at >= 0) next[at] = entry;
    else next.push(entry);
    return next;
  });
}

/** Remove one entry of config.json (refused when it changed since `revision` was listed). */
export async function removeRegistryEntry(file: string, hostName: string, revision?: string): Promise<boolean> {
  const host = hostName.toLowerCase();
  let removed = false;
  await updateRegistries(file, (current) => {
    const at = current.findIndex((r) => hostOf(r) === host);
    if (at < 0) {
      if (revision !== undefined) throw changed(host, file, 'was removed');
      return current;
    }
    if (revision !== undefined && entryRevision(current[at] as RegistryConfig) !== revision) throw changed(host, file, 'was changed');
    removed = true;
    return current.filter((_, i) => i !== at);
  });
  return removed;
}
