import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { redact } from '../../../../core/credentials/redact.js';
import type { Envelope, RegistrySettingsList } from '../../../../core/api/contract.js';
import { ROOT, tempHome } from '../../../support/cli.js';
import { startRegistry } from '../../../support/registry.js';
import { makeCa, signCert } from '../../../support/tls.js';

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

  it('files named by an entry (CA, client certificate, key): checked on save, never echoed, FIFOs and devices refused without reading', async () => {
    const s = setup();
    const h = s.handlers();
    // A file of the user's that is not a certificate (as /etc/shadow would be): its content must never come back.
    const MARK = `fd-private-${Math.random().toString(36).slice(2)}`;
    const shadow = path.join(s.home, 'shadow');
    writeFileSync(shadow, `root:$6$${MARK}:19000:0:99999:7:::\n`, { mode: 0o600 });
    const fifo = path.join(s.home, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(s.home, 'big.pem');
    writeFileSync(big, `-----BEGIN CERTIFICATE-----\n${'A'.repeat(2 * 1024 * 1024)}\n`);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ca: [shadow] }, 'ca.0', /holds no PEM certificate/],
      [{ cert: shadow, key: shadow }, 'cert', /holds no PEM certificate/],
      [{ ca: ['/dev/zero'] }, 'ca.0', /is not a regular file/],
      [{ ca: [path.join(s.home, 'missing.crt')] }, 'ca.0', /does not exist/],
      [{ ca: [s.home] }, 'ca.0', /is a folder/],
      [{ ca: ['/etc/hostname', fifo] }, 'ca.0', /holds no PEM certificate/],
      [{ ca: [fifo] }, 'ca.0', /is not a regular file/],
      [{ ca: [big] }, 'ca.0', /larger than 1024 KiB/],
    ];
    for (const [fields, field, message] of cases) {
      const r = await call(h, 'registry.settings.save', { entry: { host: 'files.example', ...fields } });
      expect(r.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field } } });
      if (!r.env.ok) expect(r.env.error.message).toMatch(message);
      expect(r.text).not.toContain(MARK);
    }
    expect(existsSync(s.file)).toBe(false);

    // Files that look like PEM but are not valid: refused on save (OpenSSL's reason, on the key field);
    // written into config.json by hand, neither the list, the connection test nor a registry call says
    // anything read from them.
    const dir = path.join(s.home, 'tls');
    mkdirSync(dir);
    const ca = makeCa(dir, 'lab');
    const server = signCert(dir, ca, 'server');
    const registry = await startRegistry({ tls: { cert: server.cert, key: server.key, ca: ca.cert } });
    try {
      const fakeCert = path.join(dir, 'fake.cert');
      const fakeKey = path.join(dir, 'fake.key');
      writeFileSync(fakeCert, `-----BEGIN CERTIFICATE-----\n${MARK}\n-----END CERTIFICATE-----\n`);
      writeFileSync(fakeKey, `-----BEGIN PRIVATE KEY-----\n${MARK}\n-----END PRIVATE KEY-----\n`);
      chmodSync(fakeKey, 0o600);
      const relCa = path.relative(path.dirname(s.file), ca.cert);
      const refused = await call(h, 'registry.settings.save', { entry: { host: registry.host, plainHttp: false, ca: [relCa], cert: fakeCert, key: fakeKey } });
      expect(refused.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'key' } } });
      expect(refused.text).not.toContain(MARK);
      mkdirSync(path.dirname(s.file), { recursive: true });
      writeFileSync(s.file, JSON.stringify({ registries: [{ host: registry.host, plainHttp: false, ca: relCa, cert: fakeCert, key: fakeKey }] }));
      const answers = [
        await call(h, 'registry.test', { registry: registry.host }),
        await call(h, 'registry.list', { target: registry.host }),
        await call(h, 'registry.settings.list', {}),
        await call(h, 'doctor.run', {}),
      ];
      for (const a of answers) expect(a.text).not.toContain(MARK);
      // The connection test says the client certificate is unusable (a failed step), it does not crash.
      expect(answers[0]!.env).toMatchObject({ ok: true, value: { ok: false, steps: [{ step: 'settings', status: 'fail', code: 'CONFIG_INVALID' }] } });
      expect(answers[1]!.env).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });

      // The same entry with the real CA (relative to config.json's folder) and no client certificate: the
      // connection test uses the new values at once.
      const entry = value(answers[2] as { env: Envelope<RegistrySettingsList> }).entries[0]!;
      const fixed = await call(h, 'registry.settings.save', { revision: entry.revision, entry: { host: registry.host, plainHttp: false, ca: [relCa] } });
      expect(fixed.env.ok).toBe(true);
      const test = value(await call<{ ok: boolean; steps: Array<{ step: string; status: string }> }>(h, 'registry.test', { registry: registry.host }));
      expect(test.steps.find((st) => st.step === 'tls')?.status).toBe('ok');
      expect(test.ok).toBe(true);
      // A real client pair is taken.
      const me = signCert(dir, ca, 'me', { client: true, certExt: 'cert' });
      const rev = value(await call(h, 'registry.settings.list', {})).entries[0]!.revision;
      expect((await call(h, 'registry.settings.save', { revision: rev, entry: { host: registry.host, ca: [relCa], cert: me.cert, key: me.key } })).env.ok).toBe(
        true,
      );
    } finally {
      await registry.stop();
    }
  });

  it('field errors name the field inside the entry', async () => {
    const s = setup();
    const h = s.handlers();
    const dup = await call(h, 'registry.settings.save', {
      entry: {
        host: 'a.example',
        headers: [
          { name: 'X-A', value: '1' },
          { name: 'x-a', value: '2' },
        ],
      },
    });
    expect(dup.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'headers.1.name' } } });
    const proxy = await call(h, 'registry.settings.save', { entry: { host: 'a.example', proxy: 'socks5://p:1080' } });
    expect(proxy.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'proxy' } } });
    const secret = await call(h, 'registry.settings.save', { entry: { host: 'a.example', headers: [{ name: 'X-Ok', value: '1' }, { name: 'X-Token' }] } });
    expect(secret.env).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'headers.1.value' } } });
  });
});
