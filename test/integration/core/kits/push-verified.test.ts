/**
 * kit push reads every blob through the layout's verified read: a kit blob changed after `kit verify`
 * (the window between the check and the push) is BLOB_CORRUPT and never completes an upload. Real
 * docker-registry; the registry is asked afterwards whether it has the blob.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushKitDir } from '../../../../core/kits/push.js';
import { RegistryClient } from '../../../../core/oci/client.js';
import { ociLayout, sha256 } from '../../../support/oci-layout.js';
import { tempDir } from '../../../support/oci.js';
import { startRegistry, type TestRegistry } from '../../../support/registry.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

describe('kit push', () => {
  it('refuses a blob damaged after verify with BLOB_CORRUPT and leaves it out of the registry; the intact kit then pushes', async () => {
    const dir = tempDir('kit-push-verified');
    const bytes = randomBytes(3 * 1024 * 1024);
    ociLayout(dir, 'flight/kitpush:v1', [{ mediaType: 'application/wasm', bytes, title: 'app.wasm' }], {});
    const digest = sha256(bytes);
    const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
    const damaged = Buffer.from(readFileSync(file));
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 10) ^ 0x01, damaged.length - 10);
    writeFileSync(file, damaged);

    const to = (client: RegistryClient) => ({ registry: registry.host, open: async (repository: string) => ({ client, repository }) });
    await expect(pushKitDir(dir, to(new RegistryClient(registry.host)))).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    expect(await new RegistryClient(registry.host).hasBlob('flight/kitpush', digest)).toBe(false);
    // A folder the user owns is never modified by the check.
    expect(readFileSync(file).equals(damaged)).toBe(true);

    writeFileSync(file, bytes);
    const pushed = await pushKitDir(dir, to(new RegistryClient(registry.host)));
    expect(pushed.refs).toEqual([`${registry.host}/flight/kitpush:v1`]);
    expect(await new RegistryClient(registry.host).hasBlob('flight/kitpush', digest)).toBe(true);
  }, 60_000);
});
