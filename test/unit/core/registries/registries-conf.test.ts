import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../../core/config/config.js';
import type { FlightDeckError } from '../../../../core/errors.js';
import { expandShortName, findRegistry, loadRegistriesConf, parseRegistriesConf, prefixMatch } from '../../../../core/registries/registries-conf.js';
import { resolveRegistry } from '../../../../core/registries/settings.js';

// containers-registries.conf(5) v2 and containers-registries.conf.d(5): drop-ins, location rewrites,
// wildcard prefixes, aliases. Files are written to temp folders; /etc is never read (systemConf is moved).

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fd-regconf-'));
const caught = (fn: () => unknown): FlightDeckError => {
  try {
    fn();
  } catch (err) {
    return err as FlightDeckError;
  }
  throw new Error('did not throw');
};
const noEtc = (dir: string) => path.join(dir, 'etc', 'containers', 'registries.conf');

describe('registries.conf.d drop-ins', () => {
  it('reads FILE.d/*.conf in lexical order after FILE: same prefix replaces, aliases merge, search registries replace', async () => {
    const dir = tmp();
    const main = path.join(dir, 'registries.conf');
    writeFileSync(
      main,
      [
        'unqualified-search-registries = ["a.example", "b.example"]',
        '[aliases]',
        '"app" = "a.example/flight/app"',
        '"tool" = "a.example/flight/tool"',
        '[[registry]]',
        'prefix = "lab.example/flight"',
        'location = "main.example/flight"',
        'insecure = true',
        '[[registry]]',
        'location = "keep.example"',
        'blocked = true',
      ].join('\n'),
    );
    mkdirSync(`${main}.d`);
    mkdirSync(path.join(`${main}.d`, 'sub.conf')); // a folder named *.conf: ignored
    writeFileSync(path.join(`${main}.d`, 'ignored.txt'), 'not toml at all [[[');
    writeFileSync(
      path.join(`${main}.d`, '10-lab.conf'),
      '[[registry]]\nprefix = "lab.example/flight"\nlocation = "first.example/x"\n[aliases]\n"app" = "b.example/flight/app"\n',
    );
    writeFileSync(
      path.join(`${main}.d`, '20-lab.conf'),
      'unqualified-search-registries = ["c.example"]\n[[registry]]\nprefix = "lab.example/flight"\nlocation = "drop.example/x"\n[aliases]\n"tool" = ""\n',
    );
    const conf = await loadRegistriesConf(main, {}, noEtc(dir));
    expect(conf?.files).toEqual([main, path.join(`${main}.d`, '10-lab.conf'), path.join(`${main}.d`, '20-lab.conf')]);
    const lab = findRegistry(conf, 'lab.example/flight/a');
    // Replaced whole: the drop-in's table has no `insecure`, so the main file's is gone too.
    expect(lab).toMatchObject({ location: 'drop.example/x', insecure: false, file: path.join(`${main}.d`, '20-lab.conf') });
    expect(findRegistry(conf, 'keep.example/a')).toMatchObject({ blocked: true, file: main });
    expect(conf?.aliases.get('app')).toEqual({ value: 'b.example/flight/app', file: path.join(`${main}.d`, '10-lab.conf') });
    expect(conf?.aliases.get('tool')?.value).toBeNull();
    expect(conf?.unqualifiedSearchRegistries).toEqual({ value: ['c.example'], file: path.join(`${main}.d`, '20-lab.conf') });

    // The origin doctor shows names the drop-in.
    const r = await resolveRegistry({
      host: 'lab.example',
      repository: 'flight/a',
      config: ConfigSchema.parse({}),
      configFile: path.join(dir, 'config.json'),
      conf,
      env: { FLIGHTDECK_CERTS_D: path.join(dir, 'none') },
    });
    expect(r.location).toBe('drop.example/x');
    expect(r.sources.location?.from).toContain('20-lab.conf');
  });

  it('without an explicit file: the user file and only its .d; else the system file, its .d and the user .d', async () => {
    const dir = tmp();
    const xdg = path.join(dir, 'xdg');
    const etc = noEtc(dir);
    mkdirSync(`${etc}.d`, { recursive: true });
    mkdirSync(path.join(xdg, 'containers', 'registries.conf.d'), { recursive: true });
    writeFileSync(path.join(`${etc}.d`, 'a.conf'), '[[registry]]\nlocation = "sys.example"\nblocked = true\n');
    writeFileSync(path.join(xdg, 'containers', 'registries.conf.d', 'b.conf'), '[[registry]]\nlocation = "user.example"\nblocked = true\n');
    // No main file anywhere: both drop-in folders still count.
    const both = await loadRegistriesConf(undefined, { XDG_CONFIG_HOME: xdg }, etc);
    expect(both?.registries.map((r) => r.prefix)).toEqual(['sys.example', 'user.example']);
    // A user registries.conf: the system folder is no longer read.
    writeFileSync(path.join(xdg, 'containers', 'registries.conf'), '');
    const user = await loadRegistriesConf(undefined, { XDG_CONFIG_HOME: xdg }, etc);
    expect(user?.registries.map((r) => r.prefix)).toEqual(['user.example']);
    expect(await loadRegistriesConf(undefined, { XDG_CONFIG_HOME: path.join(dir, 'none') }, path.join(dir, 'no-etc', 'r.conf'))).toBeUndefined();
  });

  it('a broken or version 1 drop-in is CONFIG_INVALID naming the drop-in', async () => {
    const dir = tmp();
    const main = path.join(dir, 'r.conf');
    writeFileSync(main, '');
    mkdirSync(`${main}.d`);
    writeFileSync(path.join(`${main}.d`, 'v1.conf'), '[registries.search]\nregistries = ["x.example"]\n');
    const err = (await loadRegistriesConf(main, {}, noEtc(dir)).catch((e: unknown) => e)) as FlightDeckError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(path.join(`${main}.d`, 'v1.conf'));
  });
});

describe('registries.conf validation (containers/image postProcessRegistries)', () => {
  it.each([
    ['[[registry]]\nprefix = "a.example/x"\n', '"location" is unset'],
    ['[[registry]]\ninsecure = true\n', 'both "location" and "prefix" are unset'],
    ['[[registry]]\nlocation = "https://a.example"\n', 'URI schemes are not supported'],
    ['[[registry]]\nprefix = "*.a.example/x"\n', 'wildcard prefix'],
    ['[[registry]]\nlocation = "a.example"\npull-from-mirror = "all"\n', 'pull-from-mirror'],
    [
      '[[registry]]\nlocation = "a.example"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.example"\npull-from-mirror = "all"\n',
      'cannot be set together',
    ],
    ['[[registry]]\nprefix = "a.example/x"\nlocation = "a.example"\ninsecure = true\n[[registry]]\nlocation = "a.example"\n', 'conflicting "insecure"'],
    ['unqualified-search-registries = ["not a host"]\n', 'not a registry host'],
    ['short-name-mode = "sometimes"\n', 'short-name-mode'],
    ['[aliases]\n"a.example/app" = "b.example/app"\n', 'not a short name'],
    ['[aliases]\n"app" = "b.example/app:1"\n', 'fully-qualified'],
    ['[aliases]\n"app" = "app"\n', 'fully-qualified'],
  ])('%j → CONFIG_INVALID (%s)', (text, why) => {
    const e = caught(() => parseRegistriesConf(text, '/f/r.conf'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('/f/r.conf');
    expect(e.message).toContain(why);
  });

  it('matches prefixes at /, : (tag) and @ boundaries; wildcards match subdomains with any port', () => {
    expect(prefixMatch('a.example/foo/bar', 'a.example/foo')).toBe('a.example/foo'.length);
    expect(prefixMatch('a.example/foobar', 'a.example/foo')).toBe(-1);
    expect(prefixMatch('a.example/foo:1', 'a.example/foo')).toBe('a.example/foo'.length);
    expect(prefixMatch('a.example:5000/foo', 'a.example')).toBe(-1);
    expect(prefixMatch('x.a.example:5000/foo', '*.a.example')).toBe('x.a.example:5000'.length);
    expect(prefixMatch('a.example/foo', '*.a.example')).toBe(-1);
    expect(prefixMatch('evil.example/x.a.example', '*.a.example')).toBe(-1);
  });
});

describe('short names', () => {
  const conf = (text: string) => parseRegistriesConf(text, '/f/r.conf');
  it('resolves an alias, keeping the tag or digest the user gave', () => {
    const c = conf('[aliases]\n"app" = "reg.example:5000/flight/app"\n"flight/tool" = "reg.example/tools/tool"\n');
    expect(expandShortName('app:1', c, false)).toEqual({ reference: 'reg.example:5000/flight/app:1', from: '/f/r.conf [aliases] app' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(expandShortName(`flight/tool@${digest}`, c, false)?.reference).toBe(`reg.example/tools/tool@${digest}`);
    expect(expandShortName('reg.example/flight/app:1', c, true)).toBeUndefined(); // not a short name
    expect(expandShortName('other:1', c, false)).toBeUndefined(); // no alias, no search allowed
  });

  it('without an alias: the one search registry; several are REFERENCE_AMBIGUOUS naming them; none is REFERENCE_INVALID', () => {
    expect(expandShortName('app:1', conf('unqualified-search-registries = ["one.example"]\n'), true)?.reference).toBe('one.example/app:1');
    const e = caught(() => expandShortName('app:1', conf('unqualified-search-registries = ["one.example", "two.example:5000"]\n'), true));
    expect(e.code).toBe('REFERENCE_AMBIGUOUS');
    expect(e.message).toContain('one.example/app:1, two.example:5000/app:1');
    expect(caught(() => expandShortName('app:1', undefined, true)).code).toBe('REFERENCE_INVALID');
    // An alias erased by a later file ("") no longer resolves.
    expect(caught(() => expandShortName('app', conf('[aliases]\n"app" = ""\n'), true)).code).toBe('REFERENCE_INVALID');
  });
});
