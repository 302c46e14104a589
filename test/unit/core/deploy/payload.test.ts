import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadPayload, sha256 } from '../../../../core/deploy/payload.js';
import { ROOT } from '../../../support/cli.js';

// The Dreamcast bundle of the demo kit (application/tar+gzip layer).
const DREAMCAST = path.join(ROOT, 'assets/demo-kit/blobs/sha256/8b6010d7517e03f96af064a9142bd194ea7ae63ba326671fbd3ee4f7d444fe4f');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fd-payload-'));

describe('loadPayload', () => {
  it('reads a .wasm module as it is', async () => {
    const file = path.join(tmp, 'm.wasm');
    const bytes = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    writeFileSync(file, bytes);
    expect(await loadPayload(file)).toEqual({ bytes, sha256: sha256(bytes), name: 'm.wasm', platform: undefined });
  });

  it('picks the first module of a bundle, or the one named, with its platform and the digest its manifest lists', async () => {
    const first = await loadPayload(DREAMCAST);
    expect(first).toMatchObject({ platform: 'dreamcast', name: expect.stringMatching(/!wasm\/flight-memory-validation\.wasm$/) });
    expect(first.sha256).toBe('f1e539eb01db3b33c663f059c979b9e41ed82d7835e617e44cb4926d7cb476ff');
    const named = await loadPayload(DREAMCAST, 'flight-error-codes');
    expect(named.sha256).toBe('c84e228c08dda72273943576cda972d2049b226cd5860394b8cc16ffc43c81bb');
  });

  it('names the file and the problem for bad input', async () => {
    const text = path.join(tmp, 'notes.txt');
    writeFileSync(text, 'hello');
    const noManifest = path.join(tmp, 'empty.tar.gz');
    writeFileSync(noManifest, gzipSync(Buffer.alloc(1024)));
    await expect(loadPayload(path.join(tmp, 'absent.wasm'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('absent.wasm') });
    await expect(loadPayload(text)).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('notes.txt') });
    await expect(loadPayload(noManifest)).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('no <platform>/manifest.json') });
    await expect(loadPayload(DREAMCAST, 'flight-session-threads')).rejects.toMatchObject({
      code: 'PAYLOAD_INVALID',
      message: expect.stringContaining('it has wasm/flight-memory-validation.wasm, wasm/flight-error-codes.wasm'),
    });
    const truncated = path.join(tmp, 'cut.tar.gz');
    writeFileSync(truncated, readFileSync(DREAMCAST).subarray(0, 200));
    await expect(loadPayload(truncated)).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('cut.tar.gz') });
  });
});
