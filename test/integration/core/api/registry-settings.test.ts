import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { redact } from '../../../../core/credentials/redact.js';
import type { Envelope, RegistrySettingsList } from '../../../../core/api/contract.js';
import { ROOT, tempHome } from '../../../support/cli.js';

// Settings → Registries' api: Flight Deck's own entries of config.json edited through the contract, as the
// page calls it over IPC or the web host, with the other tools' files (registries.conf, certs.d) from a
// fixture folder named by the environment (never /etc).
const SECRET = 'Bearer s3cr3t-lab-token-7f1c';
const PROXY_PASSWORD = 'pr0xy-pa55-9c2e';

function setup() {
  const home = tempHome();
  const paths = resolvePaths({ FLIGHTDECK_HOME: home });
  const certsD = path.join(home, 'certs.d');
  mkdirSync(path.join(certsD, 'lab.example:5000'), { recursive: true });
  writeFileSync(path.join(certsD, 'lab.example:5000', 'lab-ca.crt'), '-----BEGIN CERTIFICATE-----\n');
  const conf = path.join(home, 'registries.conf');
  writeFileSync(
    conf,
    ['[[registry]]', 'prefix = "quay.lab.example"', 'location = "quay-cache.lab.example:5000"', '[[registry.mirror]]', 'location = "m.lab.example:5000"'].join(
      '\n',
    ),
  );
  const env = { HOME: home, FLIGHTDECK_CERTS_D: certsD, CONTAINERS_REGISTRIES_CONF: conf };
  const handlers = () => createHandlers({ probes: [], paths, env });
  return { home, paths, file: path.join(paths.config, 'config.json'), env, handlers, certsD, conf };
}

async function call<T = RegistrySettingsList>(
  handlers: ReturnType<typeof createHandlers>,
  method: string,
  input: unknown,
): Promise<{ env: Envelope<T>; text: string }> {
  const env = (await dispatch(handlers, method as 'registry.settings.list', input as never)) as Envelope<T>;
  return { env, text: JSON.stringify(env) };
}

function value<T>(r: { env: Envelope<T> }): T {
  if (!r.env.ok) throw new Error(JSON.stringify(r.env.error));
  return r.env.value;
}

describe('registry.settings.*: Flight Deck’s own registry entries', () => {
  it('adds, lists (secrets redacted, origins), edits keeping the secrets, refuses a stale edit, removes; other keys of config.json stay', async () => {
    const s = setup();
    mkdirSync(path.dirname(s.file), { recursive: true });
    writeFileSync(s.file, JSON.stringify({ retry: { attempts: 3 }, registries: ['old.example'] }));
    const h = s.handlers();

    const added = await call(h, 'registry.settings.save', {
      entry: {
        host: 'Reg.Lab.Example:5000',
        plainHttp: true,
        headers: [
          { name: 'Authorization', value: SECRET },
          { name: 'X-Lab', value: 'bench-3' },
        ],
        proxy: `http://fd:${PROXY_PASSWORD}@proxy.lab.example:3128`,
        mirrors: [{ location: 'mirror.lab.example:5000', insecure: true }],
        pullFromMirror: 'digest-only',
      },
    });
    const list = value(added);
    // Nothing of the secrets goes back to the page: not the header value, not the proxy password.
    expect(added.text).not.toContain('s3cr3t');
    expect(added.text).not.toContain(PROXY_PASSWORD);
    const entry = list.entries.find((e) => e.host === 'reg.lab.example:5000')!;
    expect(entry.headers).toEqual([
      { name: 'Authorization', secret: true },
      { name: 'X-Lab', value: 'bench-3', secret: false },
    ]);
    expect(entry.proxy).toBe('http://***@proxy.lab.example:3128');
    expect(entry.mirrors).toEqual([{ location: 'mirror.lab.example:5000', insecure: true }]);
    // ...and nothing of them reaches a log line either: the values are registered as secrets.
    expect(redact(`header ${SECRET} via http://fd:${PROXY_PASSWORD}@proxy`)).not.toMatch(/s3cr3t|pr0xy-pa55/);

    // The effective settings name config.json as their origin; registries.conf and certs.d are listed read-only.
    const eff = list.effective.find((r) => r.host === 'reg.lab.example:5000')!;
    expect(eff).toMatchObject({ scheme: 'http', mirrors: ['mirror.lab.example:5000'], pullFromMirror: 'digest-only', headers: ['Authorization', 'X-Lab'] });
    expect(eff.sources.mirrors).toEqual({ origin: 'config.json', from: s.file });
    expect(eff.sources.headers).toEqual({ origin: 'config.json', from: s.file });
    expect(list.external).toContainEqual({
      host: 'quay.lab.example',
      origin: 'registries.conf',
      from: s.conf,
      settings: ['prefix quay.lab.example', 'location quay-cache.lab.example:5000', 'mirror m.lab.example:5000 (all)'],
    });
    expect(list.external).toContainEqual({
      host: 'lab.example:5000',
      origin: 'certs.d',
      from: path.join(s.certsD, 'lab.example:5000'),
      settings: ['CA lab-ca.crt'],
    });
    expect(list.effective.find((r) => r.host === 'lab.example:5000')?.sources.ca).toEqual({ origin: 'certs.d', from: path.join(s.certsD, 'lab.example:5000') });

    // The file: the secrets as given, the other keys as written.
    const onDisk = JSON.parse(readFileSync(s.file, 'utf8'));
    expect(onDisk.retry).toEqual({ attempts: 3 });
    expect(onDisk.registries[0]).toBe('old.example');
    expect(onDisk.registries[1]).toMatchObject({
      host: 'reg.lab.example:5000',
      headers: { Authorization: SECRET },
      proxy: `http://fd:${PROXY_PASSWORD}@proxy.lab.example:3128`,
    });

    // An edit that sends the secret header without a value and the redacted proxy keeps both.
    const edited = value(
      await call(h, 'registry.settings.save', {
        revision: entry.revision,
        entry: {
          host: 'reg.lab.example:5000',
          headers: [{ name: 'Authorization' }, { name: 'X-Lab', value: 'bench-4' }],
          proxy: entry.proxy,
          mirrors: [{ location: 'mirror.lab.example:5000' }],
        },
      }),
    );
    const after = JSON.parse(readFileSync(s.file, 'utf8')).registries[1];
    expect(after).toEqual({
      host: 'reg.lab.example:5000',
      headers: { Authorization: SECRET, 'X-Lab': 'bench-4' },
      proxy: `http://fd:${PROXY_PASSWORD}@proxy.lab.example:3128`,
      mirrors: [{ location: 'mirror.lab.example:5000' }],
    });
    const revision = edited.entries.find((e) => e.host === 'reg.lab.example:5000')!.revision;
    expect(revision).not.toBe(entry.revision);

    // A page that listed before that edit cannot overwrite it, nor remove the entry.
    const stale = await call(h, 'registry.settings.save', { revision: entry.revision, entry: { host: 'reg.lab.example:5000', plainHttp: false } });
    expect(stale.env).toMatchObject({ ok: false, error: { code: 'CONFIG_CHANGED' } });
    expect(await call(h, 'registry.settings.remove', { host: 'reg.lab.example:5000', revision: entry.revision })).toMatchObject({
      env: { ok: false, error: { code: 'CONFIG_CHANGED' } },
    });
    // Adding a host that has an entry is refused too (someone added it meanwhile).
    expect((await call(h, 'registry.settings.save', { entry: { host: 'old.example' } })).env).toMatchObject({ ok: false, error: { code: 'CONFIG_CHANGED' } });
    // A new secret header with no value, a bad proxy, a header with a line break: clear errors, nothing written.
    const before = readFileSync(s.file, 'utf8');
    for (const entryIn of [
      { host: 'new.example', headers: [{ name: 'X-Token' }] },
      { host: 'new.example', proxy: 'socks5://p:1080' },
      { host: 'new.example', headers: [{ name: 'X-A', value: 'a\r\nInjected: 1' }] },
      { host: 'new.example', cert: '/c.pem' },
    ]) {
      const r = await call(h, 'registry.settings.save', { entry: entryIn });
      expect(r.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(readFileSync(s.file, 'utf8')).toBe(before);

    const removed = value(await call(h, 'registry.settings.remove', { host: 'reg.lab.example:5000', revision }));
    expect(removed.entries.map((e) => e.host)).toEqual(['old.example']);
    expect(JSON.parse(readFileSync(s.file, 'utf8'))).toEqual({ retry: { attempts: 3 }, registries: ['old.example'] });
  });

  it('a broken config.json is reported, never overwritten; a new config.json is owner-only (it may hold header secrets)', async () => {
    const s = setup();
    mkdirSync(path.dirname(s.file), { recursive: true });
    writeFileSync(s.file, '{ "registries": [ ');
    const r = await call(s.handlers(), 'registry.settings.save', { entry: { host: 'a.example' } });
    expect(r.env).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    expect(readFileSync(s.file, 'utf8')).toBe('{ "registries": [ ');

    const t = setup();
    value(await call(t.handlers(), 'registry.settings.save', { entry: { host: 'a.example', headers: [{ name: 'X-Api-Key', value: 'k-123456' }] } }));
    expect(statSync(t.file).mode & 0o077).toBe(0);
  });

  it('two writers at once, in one process and in two processes, keep each other’s edits', async () => {
    const s = setup();
    // Two api instances (as the app and a web host would have) save different entries at the same time.
    const [a, b] = [s.handlers(), s.handlers()];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call(i % 2 ? a : b, 'registry.settings.save', { entry: { host: `same-process-${i}.example` } })),
    );
    for (const r of results) expect(r.env.ok).toBe(true);

    // Two processes, each adding its entries one after the other, both started before either ends.
    const script = (tag: string) =>
      [
        `import { saveRegistryEntry } from ${JSON.stringify(path.join(ROOT, 'dist', 'core', 'registries', 'edit.js'))};`,
        `for (let i = 0; i < 8; i++) await saveRegistryEntry(${JSON.stringify(s.file)}, { entry: { host: '${tag}-' + i + '.example' } });`,
      ].join('\n');
    const run = (tag: string) =>
      new Promise<number>((resolve, reject) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script(tag)], { stdio: ['ignore', 'inherit', 'inherit'] });
        p.on('error', reject);
        p.on('exit', (code) => resolve(code ?? -1));
      });
    expect(await Promise.all([run('proc-a'), run('proc-b')])).toEqual([0, 0]);

    const hosts = (JSON.parse(readFileSync(s.file, 'utf8')).registries as Array<{ host: string }>).map((r) => r.host).sort();
    const expected = [
      ...Array.from({ length: 6 }, (_, i) => `same-process-${i}.example`),
      ...Array.from({ length: 8 }, (_, i) => `proc-a-${i}.example`),
      ...Array.from({ length: 8 }, (_, i) => `proc-b-${i}.example`),
    ].sort();
    expect(hosts).toEqual(expected);
  });
});
