import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enforcePolicy, loadPolicy, signatureTag, verifiedBy, type CosignSignature } from '../../../../core/kits/signatures.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { cosignKey, cosignSignature } from '../../../support/cosign.js';

const DIGEST = `sha256:${'a1'.repeat(32)}`;
const OTHER = `sha256:${'b2'.repeat(32)}`;
const release = cosignKey();
const rogue = cosignKey();

/** The signature layers of a test signature, as the kit and the store read them. */
function sigs(key = release, payloadDigest = DIGEST): CosignSignature[] {
  const s = cosignSignature(key, 'lab.example/flight/shared-types/bundles/vita', DIGEST, payloadDigest);
  const manifest = JSON.parse(s.manifest.toString('utf8')) as { layers: Array<{ annotations: Record<string, string> }> };
  return [{ payload: s.blobs[1]!, signature: manifest.layers[0]!.annotations['dev.cosignproject.cosign/signature']! }];
}

async function policy(rules: unknown[], keys: Record<string, string> = { release: 'release.pub' }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fd-policy-'));
  writeFileSync(path.join(dir, 'release.pub'), release.publicPem);
  writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ keys, rules }));
  return loadPolicy(resolvePaths({ FLIGHTDECK_HOME: dir }), path.join(dir, 'policy.json'));
}

describe('cosign signatures', () => {
  it('names the .sig tag after the digest, as cosign does', () => {
    expect(signatureTag(DIGEST)).toBe(`sha256-${'a1'.repeat(32)}.sig`);
  });

  it('verifies only under the signing key, and only for the digest the payload names', async () => {
    const p = (await policy([], { release: 'release.pub', rogue: rogue.publicPem }))!;
    expect(verifiedBy(sigs(), DIGEST, p.keys)).toEqual(['release']);
    expect(verifiedBy(sigs(rogue), DIGEST, p.keys)).toEqual(['rogue']);
    expect(verifiedBy(sigs(release, OTHER), DIGEST, p.keys)).toEqual([]);
    const tampered = sigs();
    tampered[0]!.payload = Buffer.from(tampered[0]!.payload.toString().replace('cosign container', 'cosign  container'));
    expect(verifiedBy(tampered, DIGEST, p.keys)).toEqual([]);
    expect(verifiedBy([{ payload: sigs()[0]!.payload, signature: 'bm90IGEgc2lnbmF0dXJl' }], DIGEST, p.keys)).toEqual([]);
  });
});

describe('enforcePolicy', () => {
  const subject = { registry: 'lab.example', repository: 'flight/shared-types/bundles/vita', digest: DIGEST };

  it('the first rule matching registry and repository applies; `*` stays within a path component', async () => {
    const p = await policy([{ repository: 'flight/*/bundles/*', keys: ['release'] }]);
    expect(enforcePolicy(p, subject, sigs())).toEqual({ rule: 'flight/*/bundles/*', verifiedBy: ['release'] });
    expect(() => enforcePolicy(p, subject, null)).toThrow(expect.objectContaining({ code: 'SIGNATURE_REQUIRED' }));
    expect(() => enforcePolicy(p, subject, sigs(rogue))).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => enforcePolicy(p, subject, sigs(release, OTHER))).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    // Not covered: no requirement (another registry, a deeper path than `*` reaches).
    const scoped = await policy([{ registry: 'other.example', repository: 'flight/**', keys: ['release'] }]);
    expect(enforcePolicy(scoped, subject, null)).toEqual({ rule: null, verifiedBy: [] });
    expect(enforcePolicy(p, { ...subject, repository: 'flight/shared-types/bundles/vita/extra' }, null).rule).toBeNull();
    expect(enforcePolicy(undefined, subject, null)).toEqual({ rule: null, verifiedBy: [] });
  });

  it('a policy naming an unknown key, or a key that is not ECDSA P-256, is CONFIG_INVALID', async () => {
    await expect(policy([{ repository: 'x', keys: ['nope'] }])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(policy([], { release: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
