import type { Command } from 'commander';
import type { Output } from '../output.js';
import { callApi } from '../api.js';
import { readSecret } from '../secret-input.js';
import { FlightDeckError } from '../../core/errors.js';
import type { CredentialListingInfo } from '../../core/credentials/schema.js';

const SOURCE_LABEL: Record<CredentialListingInfo['source'], string> = {
  flag: 'command line',
  env: 'environment',
  keychain: 'OS keychain',
  'docker-config': 'docker config.json',
  'credential-helper': 'docker credential helper',
  anonymous: 'anonymous',
};

interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  tokenStdin?: boolean;
  identityTokenStdin?: boolean;
  plainHttp?: boolean;
  insecure?: boolean;
}

export function registerCredentials(program: Command, out: () => Output): void {
  program
    .command('login')
    .description('Verify registry credentials against the registry, then store them in the OS keychain')
    .argument('<registry>', 'registry host[:port]')
    .option('-u, --username <user>', 'username (with a password)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--token-stdin', 'read a bearer token from stdin (sent as Authorization: Bearer)')
    .option('--identity-token-stdin', 'read an OAuth2 refresh (identity) token from stdin')
    .option('-p, --password <password>', 'the password as an argument (insecure: shell history, process list)')
    .option('--plain-http', 'talk HTTP, not HTTPS, to this registry')
    .option('--insecure', 'do not verify the registry’s TLS certificate')
    .addHelpText(
      'after',
      `
Nothing is stored unless the registry accepts the credentials. On a terminal, the password is prompted
for without echo when no stdin option is given.

Examples:
  $ flightdeck login registry.example.com -u alice
  $ echo "$TOKEN" | flightdeck login registry.example.com --token-stdin
  $ cat pw.txt | flightdeck login localhost:5000 -u ci --password-stdin --json`,
    )
    .action(async (registry: string, opts: LoginOptions) => {
      const o = out();
      const fromStdin = [opts.passwordStdin, opts.tokenStdin, opts.identityTokenStdin].filter(Boolean).length;
      if (fromStdin > 1 || (fromStdin === 1 && opts.password !== undefined)) {
        throw new FlightDeckError('USAGE', 'Give the secret one way: --password-stdin, --token-stdin, --identity-token-stdin or --password.');
      }
      const kind = opts.tokenStdin ? 'bearer' : opts.identityTokenStdin ? 'identity-token' : 'basic';
      if (kind === 'basic' && !opts.username) {
        throw new FlightDeckError('USAGE', `A username is needed to log in to ${registry} with a password.`, {
          hint: 'Add -u USER, or use --token-stdin for a token.',
        });
      }
      let secret: string;
      if (opts.password !== undefined) {
        o.warn('Using --password on the command line is insecure (shell history, process list). Use --password-stdin.');
        secret = opts.password;
      } else {
        secret = await readSecret({
          fromStdin: fromStdin === 1,
          prompt: kind === 'basic' ? 'Password: ' : 'Token: ',
          what: kind === 'basic' ? 'password' : 'token',
        });
      }
      const result = await callApi('credentials.login', {
        registry,
        kind,
        secret,
        ...(opts.username ? { username: opts.username } : {}),
        ...(opts.plainHttp ? { plainHttp: true } : {}),
        ...(opts.insecure ? { insecure: true } : {}),
      });
      o.result(result, (r) => `Login succeeded: ${r.registry}${r.username ? ` as ${r.username}` : ''} (stored in the OS keychain).`);
    });

  program
    .command('logout')
    .description('Remove a registry’s credentials from the OS keychain')
    .argument('<registry>', 'registry host[:port]')
    .addHelpText('after', '\nExamples:\n  $ flightdeck logout registry.example.com')
    .action(async (registry: string) => {
      const o = out();
      const r = await callApi('credentials.logout', { registry });
      o.result(r, (v) => (v.removed ? `Removed the credentials of ${v.registry}.` : `No credentials stored for ${v.registry}; nothing to remove.`));
    });

  const creds = program.command('credentials').description('List and test registry credentials (never shows secrets)');
  creds
    .command('ls')
    .description('Registries with credentials, their usernames, where each comes from and when it was last verified')
    .addHelpText('after', '\nExamples:\n  $ flightdeck credentials ls\n  $ flightdeck credentials ls --json')
    .action(async () => {
      const o = out();
      const r = await callApi('credentials.list', {});
      for (const p of r.problems) o.warn(`${SOURCE_LABEL[p.source as CredentialListingInfo['source']] ?? p.source}: [${p.code}] ${p.message}`);
      o.result(r, (v) => renderList(v.credentials));
    });
  creds
    .command('test')
    .description('Verify the credentials Flight Deck would use for a registry, now')
    .argument('<registry>', 'registry host[:port]')
    .option('--plain-http', 'talk HTTP, not HTTPS, to this registry')
    .option('--insecure', 'do not verify the registry’s TLS certificate')
    .addHelpText('after', '\nExamples:\n  $ flightdeck credentials test localhost:5000')
    .action(async (registry: string, opts: { plainHttp?: boolean; insecure?: boolean }) => {
      const o = out();
      const r = await callApi('credentials.test', { registry, ...(opts.plainHttp ? { plainHttp: true } : {}), ...(opts.insecure ? { insecure: true } : {}) });
      o.result(r, (v) => `${v.registry}: accepted (${SOURCE_LABEL[v.source]}${v.username ? `, ${v.username}` : ''}).`);
    });
  for (const c of creds.commands) c.exitOverride().configureOutput(program.configureOutput());
}

function renderList(list: CredentialListingInfo[]): string {
  if (list.length === 0) return 'No registry credentials. Add some with `flightdeck login REGISTRY`.';
  const rows = list.map((c) => [c.registry, c.username ?? '-', c.kind, SOURCE_LABEL[c.source] + (c.helper ? ` (${c.helper})` : ''), c.verifiedAt ?? '-']);
  const head = ['REGISTRY', 'USERNAME', 'KIND', 'SOURCE', 'LAST VERIFIED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
