import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { lockPathOf, parseLab } from '../../../../core/lab/load.js';
import { ROOT } from '../../../support/cli.js';
import { mutate, rng } from '../../../support/fuzz.js';

const home = mkdtempSync(path.join(os.tmpdir(), 'fd-lab-'));
const paths = resolvePaths({ FLIGHTDECK_HOME: home });
const FILE = path.join(home, 'flightdeck.lab.yaml');
const D = `sha256:${'ab'.repeat(32)}`;

const GOOD = `# the bench lab
source: registry.lab.example/flight/shared-types
bundles:
  vita: { tag: "2026.11.01" }
  dreamcast: { digest: "${D}" }
devices:
  - { name: vita-01, uri: "tcp://10.0.0.21:7000", platform: vita, module: flight-memory-validation }
  - { name: dc-bench, serialNumber: "FDE-86EEE21D4E27", platform: dreamcast }
policy: ./policy.json
`;

/** The LAB_INVALID a text is refused with (fails the test when it is accepted). */
async function refused(text: string): Promise<FlightDeckError> {
  try {
    await parseLab(FILE, text, paths);
  } catch (err) {
    expect(err).toBeInstanceOf(FlightDeckError);
    return err as FlightDeckError;
  }
  throw new Error('accepted');
}

describe('lab file', () => {
  it('reads the issue’s example: source, bundles by tag and digest, devices by URI and serial number, policy beside the file', async () => {
    const lab = await parseLab(FILE, GOOD, paths);
    expect(lab.source).toEqual({ kind: 'registry', registry: 'registry.lab.example', namespace: 'flight/shared-types' });
    expect(lab.doc.bundles).toEqual({ vita: { tag: '2026.11.01' }, dreamcast: { digest: D } });
    expect(lab.doc.devices.map((d) => d.name)).toEqual(['vita-01', 'dc-bench']);
    expect(lab.policy).toBe(path.join(home, 'policy.json'));
    expect(lab.lockFile).toBe(path.join(home, 'flightdeck.lab.lock'));
    expect(lockPathOf('/x/bench.yml')).toBe('/x/bench.lock');
  });

  it('an oci: source is a folder beside the lab file, with the default namespace', async () => {
    const lab = await parseLab(FILE, GOOD.replace('registry.lab.example/flight/shared-types', 'oci:kit'), paths);
    expect(lab.source).toEqual({ kind: 'layout', dir: path.join(home, 'kit'), given: 'kit', namespace: 'flight/shared-types' });
  });

  it('the published JSON Schema (docs/schemas/lab.schema.json) accepts the example and refuses what the loader refuses by shape', () => {
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'docs/schemas/lab.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(parse(GOOD)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(parse(GOOD.replace(D, 'sha256:abc')))).toBe(false);
    expect(validate(parse(GOOD.replace('policy:', 'polcy:')))).toBe(false);
  });

  const cases: Array<[string, string, number, string, RegExp]> = [
    ['an unknown platform under bundles', GOOD.replace('  vita: { tag', '  psp: { tag'), 4, 'bundles.psp', /unknown platform "psp"; known: .*dreamcast/],
    ['an unknown platform of a device', GOOD.replace('platform: vita, module', 'platform: gba, module'), 7, 'devices[0].platform', /unknown platform "gba"/],
    [
      'a duplicate device name',
      GOOD.replace('name: dc-bench', 'name: vita-01'),
      8,
      'devices[1].name',
      /duplicate device name "vita-01" \(also devices\[0\], line 7\)/,
    ],
    ['a bad digest', GOOD.replace(D, 'sha256:abc'), 5, 'bundles.dreamcast.digest', /sha256:<64 lowercase hex/],
    ['a bundle with both or neither', GOOD.replace('{ tag: "2026.11.01" }', '{ version: 3 }'), 4, 'bundles.vita', /either \{ tag/],
    ['an unknown key', GOOD.replace('policy:', 'polcy:'), 9, 'polcy', /unknown key "polcy"/],
    ['an unknown key of a device', GOOD.replace('module: flight', 'modul: flight'), 7, 'devices[0].modul', /unknown key "modul"/],
    ['a device without uri or serial number', GOOD.replace('serialNumber: "FDE-86EEE21D4E27", ', ''), 8, 'devices[1]', /give uri, serialNumber, or both/],
    ['a device URI that is not one', GOOD.replace('tcp://10.0.0.21:7000', 'tcp://10.0.0.21'), 7, 'devices[0].uri', /Invalid device URI/],
    [
      'a device whose platform has no bundle',
      GOOD.replace('platform: dreamcast', 'platform: v6r-small'),
      8,
      'devices[1].platform',
      /no bundle listed for platform "v6r-small"/,
    ],
    [
      'a source that is not host/namespace',
      GOOD.replace('registry.lab.example/flight/shared-types', 'flight/shared-types'),
      2,
      'source',
      /not host\[:port\]\/namespace/,
    ],
    ['a missing key', GOOD.replace(/^devices:[\s\S]*?policy/m, 'policy'), 2, 'devices', /expected array/i],
    ['a duplicate YAML key', GOOD.replace('policy: ./policy.json', 'source: other.example/x'), 9, '(top level)', /not valid YAML: Map keys must be unique/],
    ['broken YAML', GOOD.replace('  vita: { tag: "2026.11.01" }', '  vita: { tag: "2026.11.01"'), 5, '(top level)', /not valid YAML/],
    ['a wrong type', GOOD.replace('devices:\n', 'devices: 3\n').replace(/^ {2}- .*\n/gm, ''), 6, 'devices', /expected array/i],
  ];
  for (const [what, text, line, where, message] of cases) {
    it(`refuses ${what} as LAB_INVALID naming line ${line} and ${where}`, async () => {
      const e = await refused(text);
      expect(e.code, e.message).toBe('LAB_INVALID');
      expect(e.message).toContain(`${FILE}:${line}: ${where}: `);
      expect(e.message).toMatch(message);
      expect(e.details).toMatchObject({ file: FILE, line, path: where });
    });
  }

  it('refuses a non-mapping document and an alias bomb without hanging', async () => {
    expect((await refused('- a\n- b\n')).code).toBe('LAB_INVALID');
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    expect((await refused(bomb)).code).toBe('LAB_INVALID');
  });
});

describe('lab file fuzz', () => {
  it('1,000 mutated lab files: each is read or refused as LAB_INVALID, never another error', async () => {
    const random = rng(20);
    const seed = new TextEncoder().encode(GOOD);
    let refusedCount = 0;
    for (let i = 0; i < 1000; i++) {
      const text = new TextDecoder().decode(mutate(seed, random));
      try {
        await parseLab(FILE, text, paths);
      } catch (err) {
        if (!(err instanceof FlightDeckError) || err.code !== 'LAB_INVALID') throw new Error(`case ${i}: ${String(err)}\n${text}`, { cause: err });
        expect(err.message.startsWith(`${FILE}`)).toBe(true);
        refusedCount++;
      }
    }
    expect(refusedCount).toBeGreaterThan(500);
  });
});
