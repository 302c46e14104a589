/**
 * Credentials the way docker and ORAS users already have them: `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`) with `auths` (inline `auth` = base64 user:password, `identitytoken`,
 * `registrytoken`), `credsStore` (one helper for every registry) and `credHelpers` (a helper per host,
 * which wins over credsStore). Read-only: Flight Deck stores its own credentials in the OS keychain.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlightDeckError } from '../errors.js';
import { helperGet, helperList, runHelper, type HelperRunner } from './docker-helper.js';
import { registerSecret } from './redact.js';
import type { RegistryCredential } from './types.js';

export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfig {
  file: string;
  auths: Record<string, DockerAuthEntry>;
  credsStore: string | undefined;
  credHelpers: Record<string, string>;
}

export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG?.trim() || path.join(env.HOME?.trim() || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** The docker config, or undefined when there is none. A broken file is CONFIG_INVALID naming it. */
export async function readDockerConfig(env: NodeJS.ProcessEnv = process.env): Promise<DockerConfig | undefined> {
  const file = dockerConfigFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FlightDeckError('CONFIG_INVALID', `Cannot read the docker config ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the parser's message: it may quote the file, which holds secrets.
    throw new FlightDeckError('CONFIG_INVALID', `The docker config ${file} is not valid JSON.`, {
      hint: 'Fix the file (docker and ORAS read it too) or point DOCKER_CONFIG at another folder.',
    });
  }
  const obj = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const auths = obj.auths && typeof obj.auths === 'object' ? (obj.auths as Record<string, DockerAuthEntry>) : {};
  for (const entry of Object.values(auths)) {
    for (const v of [entry?.auth, entry?.password, entry?.identitytoken, entry?.registrytoken]) registerSecret(v);
  }
  const credHelpers = obj.credHelpers && typeof obj.credHelpers === 'object' ? (obj.credHelpers as Record<string, string>) : {};
  return { file, auths, credsStore: typeof obj.credsStore === 'string' && obj.credsStore ? obj.credsStore : undefined, credHelpers };
}

/** `https://reg.example:5000/v1/` and `reg.example:5000` name the same registry. Docker Hub's aliases too. */
export function normalizeRegistryKey(key: string): string {
  let host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  return host;
}

/** Which helper holds a host's credential, if any (credHelpers wins over credsStore). */
export function helperFor(config: DockerConfig, registry: string): string | undefined {
  const host = normalizeRegistryKey(registry);
  const specific = Object.entries(config.credHelpers).find(([k]) => normalizeRegistryKey(k) === host)?.[1];
  return specific || config.credsStore;
}

function fromAuthEntry(entry: DockerAuthEntry): RegistryCredential | undefined {
  let username = entry.username;
  let password = entry.password;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, source: 'docker-config', ...(username ? { username } : {}) };
  if (entry.registrytoken) return { kind: 'bearer', token: entry.registrytoken, source: 'docker-config' };
  if (username && password) {
    registerSecret(password);
    return { kind: 'basic', username, password, source: 'docker-config' };
  }
  return undefined;
}

/** The credential docker would use for `registry`: its helper first, then an inline `auths` entry. */
export async function dockerCredential(
  config: DockerConfig,
  registry: string,
  run: HelperRunner = runHelper,
  signal?: AbortSignal,
): Promise<RegistryCredential | undefined> {
  const host = normalizeRegistryKey(registry);
  const helper = helperFor(config, registry);
  if (helper) {
    const got = await helperGet(helper, host === 'docker.io' ? 'https://index.docker.io/v1/' : registry, run, signal);
    if (got) {
      // A helper returns identity tokens with the username "<token>" (docker's convention).
      return got.Username === '<token>'
        ? { kind: 'identity-token', token: got.Secret, source: 'credential-helper' }
        : { kind: 'basic', username: got.Username, password: got.Secret, source: 'credential-helper' };
    }
  }
  const entry = Object.entries(config.auths).find(([k]) => normalizeRegistryKey(k) === host)?.[1];
  return entry ? fromAuthEntry(entry) : undefined;
}

export interface DockerListing {
  registry: string;
  username: string | undefined;
  source: 'docker-config' | 'credential-helper';
  helper?: string;
}

/** Every registry docker config knows a credential for (usernames only). */
export async function listDockerCredentials(config: DockerConfig, run: HelperRunner = runHelper, signal?: AbortSignal): Promise<DockerListing[]> {
  const out = new Map<string, DockerListing>();
  for (const [key, entry] of Object.entries(config.auths)) {
    const cred = fromAuthEntry(entry ?? {});
    if (cred)
      out.set(normalizeRegistryKey(key), {
        registry: normalizeRegistryKey(key),
        username: 'username' in cred ? cred.username : undefined,
        source: 'docker-config',
      });
  }
  const helpers = new Set([...(config.credsStore ? [config.credsStore] : []), ...Object.values(config.credHelpers)]);
  for (const helper of helpers) {
    const listed = await helperList(helper, run, signal);
    for (const [url, username] of Object.entries(listed)) {
      const registry = normalizeRegistryKey(url);
      if (helperFor(config, registry) !== helper) continue; // another helper owns this host
      out.set(registry, { registry, username: username === '<token>' ? undefined : username, source: 'credential-helper', helper });
    }
  }
  return [...out.values()];
}
