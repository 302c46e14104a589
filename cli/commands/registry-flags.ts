/**
 * The connection flags of every command that talks to a registry, defined once (ORAS and skopeo names):
 * `--ca-file`, `--cert-file`, `--key-file`, `--cert-dir`, `--registries-conf`, `-H/--header`. They apply to
 * the command's target registry (docs/registries.md has the precedence table).
 */
import type { Command } from 'commander';
import { useRegistryFlags } from '../api.js';
import type { RegistryFlags } from '../../core/registries/schema.js';

export interface RegistryFlagOpts {
  caFile?: string[];
  certFile?: string;
  keyFile?: string;
  certDir?: string;
  registriesConf?: string;
  header?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registryFlagOptions(cmd: Command): Command {
  return cmd
    .option('--ca-file <file>', 'trust this CA (PEM) for the registry, besides the system store (repeatable)', collect)
    .option('--cert-file <file>', 'client certificate (PEM) for a registry that requires one (with --key-file)')
    .option('--key-file <file>', 'private key (PEM) of --cert-file')
    .option('--cert-dir <dir>', 'folder with the registry’s *.crt CAs and a NAME.cert + NAME.key client pair (as skopeo)')
    .option('--registries-conf <file>', 'read this containers-registries.conf (v2) instead of the usual ones')
    .option('-H, --header <header>', "extra request header 'Name: value' for the registry (repeatable)", collect);
}

/** Hand the flags to the api for `registry` (undefined: every registry the command contacts). */
export function applyRegistryFlags(o: RegistryFlagOpts, registry: string | undefined): void {
  const flags: RegistryFlags = {
    ...(o.caFile?.length ? { caFile: o.caFile } : {}),
    ...(o.certFile ? { certFile: o.certFile } : {}),
    ...(o.keyFile ? { keyFile: o.keyFile } : {}),
    ...(o.certDir ? { certDir: o.certDir } : {}),
    ...(o.registriesConf ? { registriesConf: o.registriesConf } : {}),
    ...(o.header?.length ? { headers: o.header } : {}),
  };
  useRegistryFlags({ registry, flags });
}
