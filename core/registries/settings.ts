/**
 * The effective connection settings of one registry, merged from (highest first):
 *   1. flags of the command (`--plain-http`, `--insecure`, `--ca-file`, `--cert-file`/`--key-file`,
 *      `--cert-dir`, `-H`), for the command's target registry only
 *   2. Flight Deck's config.json (`registries: [{ host, ... }]`, the legacy `plainHttp` list)
 *   3. what the user's other tools already have: registries.conf v2, the certs.d folders
 *      (`FLIGHTDECK_CERTS_D`, ~/.config/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d),
 *      and for the proxy the environment (HTTPS_PROXY / HTTP_PROXY / NO_PROXY)
 *   4. defaults (https, except localhost; system CAs; no client certificate; no mirror)
 * Each setting records where it came from (`flightdeck doctor`, docs/registries.md). The first level that
 * sets a setting wins; the levels are not mixed within one setting (except headers, merged by name).
 */
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getProxyForUrl } from 'proxy-from-env';
import { FlightDeckError } from '../errors.js';
import type { Config } from '../config/config.js';
import { registryBaseUrl } from '../oci/reference.js';
import type { ProxySetting } from '../oci/proxy.js';
import { redactProxy } from '../oci/proxy.js';
import { PemFileError, readPemFile, tlsRefusal, type PemKind } from './pem-files.js';
import { matchRegistry, type ConfMirror, type ConfRegistry, type RegistriesConf } from './registries-conf.js';
import { registerSecret } from '../credentials/redact.js';
import { isSecretHeader, type PULL_FROM_MIRROR, type RegistryEntry, type RegistryFlags, type RegistrySettingsReport, type SettingOrigin } from './schema.js';

type PullFromMirror = (typeof PULL_FROM_MIRROR)[number];

export interface ResolveInput {
  host: string;
  repository?: string | undefined;
  config: Config;
  /** config.json's path, for the origin of its settings. */
  configFile: string;
  conf: RegistriesConf | undefined;
  /**
   * The registries.conf table to apply instead of the one matching `host/repository`: a rewritten
   * `location` is contacted with the settings of the table that matched the canonical name.
   */
  confEntry?: ConfRegistry | undefined;
  /** Flags of the command, already scoped to this registry (undefined for any other). */
  flags?: RegistryFlags | undefined;
  /** `--plain-http` / `--no-plain-http` / `--insecure` (also given by the UI and the web api). */
  conn?: { plainHttp?: boolean | undefined; insecure?: boolean | undefined } | undefined;
  env: NodeJS.ProcessEnv;
}

export interface ResolvedRegistry {
  host: string;
  blocked: boolean;
  /** Explicit choice (flag or config), or undefined for the default rule (localhost → http). */
  plainHttp: boolean | undefined;
  scheme: 'http' | 'https';
  insecure: boolean;
  caFiles: string[];
  certFile?: string | undefined;
  keyFile?: string | undefined;
  headers: Record<string, string>;
  proxy: ProxySetting;
  /** The proxy for the registry's own URL, credentials redacted ("direct" for none). */
  proxyLabel: string;
  mirrors: Array<ConfMirror>;
  pullFromMirror: PullFromMirror;
  /** The prefix a mirror's location replaces: the registries.conf table's, or the host for config.json mirrors. */
  mirrorPrefix: string;
  /** The registries.conf table that matched (its `location` rewrites the name, docs/registries.md). */
  confEntry: ConfRegistry | undefined;
  /** The table's `location` when it differs from its prefix: where the prefix-rooted namespace really is. */
  location: string | undefined;
  /** The certs.d folder of this registry: the one used, else where its files would go (for hints). */
  certsDir: string;
  sources: Record<string, SettingOrigin>;
  warnings: string[];
}

/** The certs.d roots, in order (skopeo/podman/docker's, after Flight Deck's own override). */
export function certsRoots(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || os.homedir();
  const roots = [path.join(home, '.config', 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
  return env.FLIGHTDECK_CERTS_D ? [path.resolve(env.FLIGHTDECK_CERTS_D), ...roots] : roots;
}

interface CertFolder {
  dir: string;
  cas: string[];
  pair?: { cert: string; key: string } | undefined;
  warnings: string[];
}

/** `*.crt` are CAs, `NAME.cert` + `NAME.key` a client pair (as containers/image reads a certs.d folder). */
async function readCertFolder(dir: string, explicit: boolean): Promise<CertFolder | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new FlightDeckError('INVALID_INPUT', `Cannot read the certificate folder ${dir}: ${code ?? (err as Error).message}`, {
      cause: err,
      details: { dir },
    });
  }
  const folder: CertFolder = { dir, cas: [], warnings: [] };
  for (const name of names) {
    if (name.endsWith('.crt')) folder.cas.push(path.join(dir, name));
    else if (name.endsWith('.cert')) {
      const key = `${name.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(key)) {
        throw new FlightDeckError('INVALID_INPUT', `${path.join(dir, name)} has no key: expected ${path.join(dir, key)} beside it.`, { details: { dir } });
      }
      if (folder.pair) folder.warnings.push(`${dir} holds more than one client certificate; using ${path.basename(folder.pair.cert)}.`);
      else folder.pair = { cert: path.join(dir, name), key: path.join(dir, key) };
    } else if (name.endsWith('.key') && !names.includes(`${name.slice(0, -'.key'.length)}.cert`)) {
      throw new FlightDeckError('INVALID_INPUT', `${path.join(dir, name)} has no certificate: expected ${name.slice(0, -'.key'.length)}.cert beside it.`, {
        details: { dir },
      });
    }
  }
  return folder;
}

function configEntry(config: Config, host: string): RegistryEntry | undefined {
  for (const r of config.registries) if (typeof r !== 'string' && r.host.toLowerCase() === host) return r;
  return undefined;
}

function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** `Name: value` of `-H`, as curl/oras take it. */
export function parseHeaderFlag(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  const value = i > 0 ? text.slice(i + 1).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name) || /[\r\n\0]/.test(value)) {
    throw new FlightDeckError('USAGE', `-H ${JSON.stringify(text)} is not a header: give 'Name: value'.`);
  }
  if (/^(authorization|host|proxy-authorization|content-length|transfer-encoding)$/i.test(name)) {
    throw new FlightDeckError('USAGE', `-H cannot set ${name}: Flight Deck sets it itself (credentials: flightdeck login, docs/credentials.md).`);
  }
  return [name, value];
}

export async function resolveRegistry(input: ResolveInput): Promise<ResolvedRegistry> {
  const host = input.host.toLowerCase();
  const entry = configEntry(input.config, host);
  const conf = input.confEntry !== undefined ? input.confEntry : matchRegistry(input.conf, host, input.repository);
  const flags = input.flags ?? {};
  const sources: Record<string, SettingOrigin> = {};
  const warnings: string[] = [];
  const cfg: SettingOrigin = { origin: 'config.json', from: input.configFile };
  // The file the matched table came from: the main registries.conf or a drop-in of registries.conf.d.
  const confOrigin: SettingOrigin = { origin: 'registries.conf', from: conf?.file ?? input.conf?.file };

  // Blocked: config.json, then registries.conf. No flag unblocks.
  let blocked = false;
  sources.blocked = { origin: 'default' };
  if (entry?.blocked !== undefined) [blocked, sources.blocked] = [entry.blocked, cfg];
  else if (conf?.blocked) [blocked, sources.blocked] = [true, { ...confOrigin, from: `${conf.file} [prefix ${conf.prefix}]` }];

  // Scheme.
  let plainHttp: boolean | undefined;
  sources.scheme = { origin: 'default' };
  if (input.conn?.plainHttp !== undefined)
    [plainHttp, sources.scheme] = [input.conn.plainHttp, { origin: 'flag', from: input.conn.plainHttp ? '--plain-http' : '--no-plain-http' }];
  else if (entry?.plainHttp !== undefined) [plainHttp, sources.scheme] = [entry.plainHttp, cfg];
  else if (input.config.plainHttp.includes(host)) [plainHttp, sources.scheme] = [true, { ...cfg, from: `${input.configFile} (plainHttp)` }];
  const scheme = plainHttp === undefined ? (registryBaseUrl(host).startsWith('http:') ? 'http' : 'https') : plainHttp ? 'http' : 'https';

  // TLS verification.
  let insecure = false;
  sources.insecure = { origin: 'default' };
  if (input.conn?.insecure) [insecure, sources.insecure] = [true, { origin: 'flag', from: '--insecure' }];
  else if (entry?.insecure !== undefined) [insecure, sources.insecure] = [entry.insecure, cfg];
  else if (conf?.insecure) [insecure, sources.insecure] = [true, confOrigin];

  // Certificates: flags (--ca-file, --cert-file/--key-file, --cert-dir), config.json, the certs.d roots.
  const flagDir = flags.certDir ? await readCertFolder(path.resolve(flags.certDir), true) : undefined;
  let rootDir: CertFolder | undefined;
  const roots = certsRoots(input.env);
  if (!flagDir) {
    for (const root of roots) {
      rootDir = await readCertFolder(path.join(root, host), false);
      if (rootDir) break;
    }
  }
  const certsDir = flagDir?.dir ?? rootDir?.dir ?? path.join(roots[0] as string, host);
  warnings.push(...(flagDir?.warnings ?? []), ...(rootDir?.warnings ?? []));

  let caFiles: string[] = [];
  sources.ca = { origin: 'default', from: 'system store' };
  const flagCas = [...(flags.caFile ?? []).map((f) => path.resolve(f)), ...(flagDir?.cas ?? [])];
  if (flagCas.length) [caFiles, sources.ca] = [flagCas, { origin: 'flag', from: flags.caFile?.length ? '--ca-file' : `--cert-dir ${flagDir?.dir}` }];
  else if (entry?.ca !== undefined) [caFiles, sources.ca] = [asList(entry.ca).map((f) => path.resolve(input.configFile, '..', f)), cfg];
  else if (rootDir?.cas.length) [caFiles, sources.ca] = [rootDir.cas, { origin: 'certs.d', from: rootDir.dir }];

  let certFile: string | undefined;
  let keyFile: string | undefined;
  sources.clientCert = { origin: 'default', from: 'none' };
  if (flags.certFile || flags.keyFile) {
    if (!flags.certFile || !flags.keyFile) throw new FlightDeckError('USAGE', '--cert-file and --key-file go together.');
    [certFile, keyFile, sources.clientCert] = [path.resolve(flags.certFile), path.resolve(flags.keyFile), { origin: 'flag', from: '--cert-file' }];
  } else if (flagDir?.pair)
    [certFile, keyFile, sources.clientCert] = [flagDir.pair.cert, flagDir.pair.key, { origin: 'flag', from: `--cert-dir ${flagDir.dir}` }];
  else if (entry?.cert && entry.key)
    [certFile, keyFile, sources.clientCert] = [path.resolve(input.configFile, '..', entry.cert), path.resolve(input.configFile, '..', entry.key), cfg];
  else if (rootDir?.pair) [certFile, keyFile, sources.clientCert] = [rootDir.pair.cert, rootDir.pair.key, { origin: 'certs.d', from: rootDir.dir }];

  // Headers: config.json, then -H on top (by name).
  const headers: Record<string, string> = { ...(entry?.headers ?? {}) };
  sources.headers = entry?.headers && Object.keys(entry.headers).length ? cfg : { origin: 'default' };
  if (flags.headers?.length) {
    for (const h of flags.headers) {
      const [name, value] = parseHeaderFlag(h);
      headers[name] = value;
    }
    sources.headers = { origin: 'flag', from: '-H' };
  }
  // Values of credential-like headers are scrubbed from every log line and error (core/credentials/redact.ts).
  for (const [name, value] of Object.entries(headers)) if (isSecretHeader(name)) registerSecret(value);

  // Proxy: config.json, else the environment, else none.
  let proxy: ProxySetting = { kind: 'env' };
  let proxyLabel = 'direct';
  const base = new URL(`${scheme}://${host}`);
  if (entry?.proxy === 'direct') [proxy, sources.proxy] = [{ kind: 'direct' }, cfg];
  else if (entry?.proxy) {
    const url = new URL(entry.proxy);
    [proxy, proxyLabel, sources.proxy] = [{ kind: 'url', url }, redactProxy(url), cfg];
  } else {
    const found = getProxyForUrl(base.href);
    if (found) {
      const name = scheme === 'https' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
      try {
        proxyLabel = redactProxy(new URL(/:\/\//.test(found) ? found : `http://${found}`));
      } catch {
        proxyLabel = '(invalid)';
      }
      sources.proxy = { origin: 'environment', from: input.env[name] || input.env[name.toLowerCase()] ? name : 'ALL_PROXY' };
    } else
      sources.proxy = {
        origin: input.env.NO_PROXY || input.env.no_proxy ? 'environment' : 'default',
        from: input.env.NO_PROXY || input.env.no_proxy ? 'NO_PROXY' : undefined,
      };
  }

  // Mirrors: config.json, else registries.conf.
  let mirrors: ConfMirror[] = [];
  let pullFromMirror: PullFromMirror = 'all';
  let mirrorPrefix = host;
  sources.mirrors = { origin: 'default' };
  if (entry?.mirrors !== undefined) {
    pullFromMirror = entry.pullFromMirror ?? 'all';
    mirrors = entry.mirrors.map((m) => ({ location: m.location.toLowerCase(), insecure: m.insecure ?? false, pullFromMirror }));
    sources.mirrors = cfg;
  } else if (conf?.mirrors.length) {
    mirrors = conf.mirrors;
    mirrorPrefix = conf.prefix;
    pullFromMirror = conf.mirrors[0]?.pullFromMirror ?? 'all';
    sources.mirrors = confOrigin;
  }

  // Location rewrite: registries.conf only (config.json names hosts, not namespaces).
  const location = conf && conf.location && conf.location !== conf.prefix ? conf.location : undefined;
  if (location) sources.location = { ...confOrigin, from: `${conf?.file} [prefix ${conf?.prefix}]` };

  return {
    host,
    blocked,
    plainHttp,
    scheme,
    insecure,
    caFiles,
    certFile,
    keyFile,
    headers,
    proxy,
    proxyLabel,
    mirrors,
    pullFromMirror,
    mirrorPrefix,
    confEntry: conf,
    location,
    certsDir,
    sources,
    warnings,
  };
}

export interface TlsMaterial {
  ca: string[];
  cert?: string | undefined;
  key?: string | undefined;
  warnings: string[];
}

/**
 * Read the CA and client certificate files of resolved settings (errors name the file and its origin,
 * never the file's content: pem-files.ts); a FIFO, a device or a file OpenSSL refuses is an error here,
 * not a hang or a crash at the first connection.
 */
export async function loadTlsMaterial(r: ResolvedRegistry): Promise<TlsMaterial> {
  const refuse = (what: string, file: string, origin: SettingOrigin | undefined, reason: string) =>
    new FlightDeckError(
      origin?.origin === 'flag' ? 'INVALID_INPUT' : 'CONFIG_INVALID',
      `Cannot use ${what} ${file} (from ${origin?.from ?? origin?.origin ?? 'settings'}): ${reason}.`,
      {
        hint: 'Give a PEM file (-----BEGIN CERTIFICATE----- / -----BEGIN PRIVATE KEY-----) that Flight Deck can read.',
        details: { file },
      },
    );
  const read = async (file: string, kind: PemKind, what: string, origin: SettingOrigin | undefined): Promise<string> => {
    try {
      return await readPemFile(file, kind);
    } catch (err) {
      throw refuse(what, file, origin, err instanceof PemFileError ? err.reason : 'cannot be read');
    }
  };
  const warnings: string[] = [];
  const ca = await Promise.all(r.caFiles.map((f) => read(f, 'CA', 'the CA file', r.sources.ca)));
  let cert: string | undefined;
  let key: string | undefined;
  if (r.certFile && r.keyFile) {
    cert = await read(r.certFile, 'certificate', 'the client certificate', r.sources.clientCert);
    key = await read(r.keyFile, 'key', 'the client key', r.sources.clientCert);
    const why = tlsRefusal({ cert, key });
    if (why) throw refuse('the client certificate and key', `${r.certFile} + ${r.keyFile}`, r.sources.clientCert, why);
    if (process.platform !== 'win32') {
      const mode = (await stat(r.keyFile)).mode;
      if (mode & 0o077) warnings.push(`The client key ${r.keyFile} is readable by group/other (mode ${(mode & 0o777).toString(8)}): chmod 600 ${r.keyFile}`);
    }
  }
  // Nothing to check without CA files (an OpenSSL context costs a few milliseconds per client).
  const why = ca.length ? tlsRefusal({ ca }) : undefined;
  if (why) throw refuse('the CA files', r.caFiles.join(', '), r.sources.ca, why);
  return { ca, cert, key, warnings };
}

/** The settings as doctor and the UI show them (no secrets: the proxy is redacted, files are paths). */
export function settingsReport(r: ResolvedRegistry): RegistrySettingsReport {
  return {
    host: r.host,
    blocked: r.blocked,
    scheme: r.scheme,
    insecure: r.insecure,
    ca: r.caFiles,
    ...(r.certFile ? { clientCert: r.certFile } : {}),
    headers: Object.keys(r.headers),
    proxy: r.proxyLabel,
    mirrors: r.mirrors.map((m) => m.location),
    pullFromMirror: r.pullFromMirror,
    ...(r.location ? { location: r.location } : {}),
    sources: r.sources,
    warnings: r.warnings,
  };
}
