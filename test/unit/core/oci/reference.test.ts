import { describe, expect, it } from 'vitest';
import {
  formatReference,
  parseDigest,
  parseLayoutReference,
  parseReference,
  parseRegistryReference,
  parseRegistryTarget,
  registryBaseUrl,
} from '../../../../core/oci/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('registry references', () => {
  it.each([
    [
      'localhost:5000/flight/shared-types/wasm/complete:2025.06.06',
      { registry: 'localhost:5000', repository: 'flight/shared-types/wasm/complete', tag: '2025.06.06', digest: undefined },
    ],
    ['oras.birb.homes/flight/shared-types/manifest:latest', { registry: 'oras.birb.homes', repository: 'flight/shared-types/manifest', tag: 'latest' }],
    [`127.0.0.1:5000/a/b@${D}`, { registry: '127.0.0.1:5000', repository: 'a/b', tag: undefined, digest: D }],
    [`reg.example.com/a:v1@${D}`, { registry: 'reg.example.com', repository: 'a', tag: 'v1', digest: D }],
    ['localhost/x__y-z.q', { registry: 'localhost', repository: 'x__y-z.q', tag: undefined }],
    ['[::1]:5000/repo:t', { registry: '[::1]:5000', repository: 'repo', tag: 't' }],
  ])('parses %s', (input, expected) => {
    expect(parseRegistryReference(input)).toMatchObject({ kind: 'registry', ...expected });
    expect(formatReference(parseRegistryReference(input))).toBe(input);
  });

  it.each([
    ['', 'empty'],
    ['flight/shared-types', 'not a registry host'],
    ['localhost:5000', 'needs a registry host and a repository'],
    ['localhost:5000/Upper/Case', 'lower-case'],
    ['localhost:5000/a//b', 'lower-case'],
    ['localhost:5000/../etc', 'lower-case'],
    ['localhost:5000/a:-bad', 'tag'],
    [`localhost:5000/a:${'x'.repeat(129)}`, 'tag'],
    ['localhost:5000/a@sha256:abc', 'not a digest'],
    ['localhost:5000/a@sha256:../../../../etc/passwd', 'not a digest'],
    [`localhost:5000/a@sha256:${'A'.repeat(64)}`, 'not a digest'],
    ['https://localhost:5000/a', 'without a scheme'],
    ['localhost:5000/a?x=1', 'without a scheme'],
    ['localhost:5000/a b', 'without a scheme'],
    [`localhost:5000/${'a/'.repeat(130)}a`, 'lower-case'],
  ])('rejects %j (%s) with REFERENCE_INVALID naming the input', (input, why) => {
    try {
      parseRegistryReference(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'REFERENCE_INVALID' });
      expect((err as Error).message).toContain(why);
      expect((err as Error).message).toContain(JSON.stringify(input.slice(0, 300)).slice(0, 20));
    }
  });
});

describe('layout references', () => {
  it('parses oci:<dir>[:tag|@digest]', () => {
    expect(parseLayoutReference('oci:./kit')).toMatchObject({ dir: './kit', tag: undefined, digest: undefined });
    expect(parseLayoutReference('oci:/tmp/kit:2025.06.06')).toMatchObject({ dir: '/tmp/kit', tag: '2025.06.06' });
    expect(parseLayoutReference(`oci:/tmp/kit@${D}`)).toMatchObject({ dir: '/tmp/kit', digest: D });
    expect(parseLayoutReference('oci:C:\\kits\\a:v1')).toMatchObject({ dir: 'C:\\kits\\a', tag: 'v1' });
    expect(parseReference('oci:kit').kind).toBe('layout');
    // skopeo's rule: the directory ends at the first colon, so a layout ref name may hold / and :
    expect(parseLayoutReference('oci:assets/demo-kit:flight/shared-types/bundles/vita:latest')).toMatchObject({
      dir: 'assets/demo-kit',
      tag: 'flight/shared-types/bundles/vita:latest',
    });
  });
  it('rejects a bad digest, a bad tag and an empty dir', () => {
    expect(() => parseLayoutReference('oci:/kit@sha256:../x')).toThrowError(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    expect(() => parseLayoutReference('oci:/kit:bad tag')).toThrowError(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
    expect(() => parseLayoutReference('oci:')).toThrowError(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
  });
});

describe('digests, targets, base URLs', () => {
  it('accepts sha256/sha512 lowercase hex only', () => {
    expect(parseDigest(D)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parseDigest(`sha512:${'b'.repeat(128)}`).algorithm).toBe('sha512');
    for (const bad of ['sha256:', `md5:${'a'.repeat(32)}`, `sha256:${'a'.repeat(63)}/`, `sha256/../${'a'.repeat(64)}`]) {
      expect(() => parseDigest(bad)).toThrowError(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    }
  });
  it('parses ls targets', () => {
    expect(parseRegistryTarget('localhost:5000')).toEqual({ registry: 'localhost:5000', repository: undefined });
    expect(parseRegistryTarget('localhost:5000/flight/shared-types/')).toEqual({ registry: 'localhost:5000', repository: 'flight/shared-types' });
    expect(() => parseRegistryTarget('localhost:5000/UP')).toThrowError(expect.objectContaining({ code: 'REFERENCE_INVALID' }));
  });
  it('uses http for localhost and listed hosts, https otherwise', () => {
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('reg.lan:5000', ['reg.lan:5000'])).toBe('http://reg.lan:5000');
    expect(registryBaseUrl('oras.birb.homes')).toBe('https://oras.birb.homes');
  });
});
