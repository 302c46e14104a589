/**
 * What `deploy` sends: a .wasm module, or one module picked from a platform bundle (.tar.gz holding
 * `<platform>/manifest.json` and `<platform>/wasm/*.wasm`, as in the demo kit).
 * Registry and `oci:` references are pulled into the content store by the deploy handler and read from
 * there as one of these.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FlightDeckError } from '../errors.js';
import { gunzipLimited, tarEntries } from '../archive/tar.js';
import { MISSING_FILE_HINT } from '../wasm/target.js';

export interface Payload {
  bytes: Buffer;
  sha256: string;
  /** Human name: the file, or bundle!module. */
  name: string;
  /** Platform the bundle was built for (bundles only). */
  platform: string | undefined;
  /** The registry or `oci:` reference it was pulled from, and the manifest digest it resolved to. */
  source?: { reference: string; manifestDigest: string };
}

const BundleManifest = z.object({
  platform: z.string(),
  modules: z.array(z.object({ file: z.string(), sha256: z.string().optional() })).min(1),
});

export async function loadPayload(file: string, module?: string): Promise<Payload> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlightDeckError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR', `Cannot read payload ${file}: ${(err as Error).message}`, {
      cause: err,
      ...(code === 'ENOENT' ? { hint: MISSING_FILE_HINT } : {}),
      details: { path: file },
    });
  }
  return payloadFromBytes(bytes, file, module);
}

/**
 * A payload from bytes already in memory (a blob read and verified from the content store); `file`
 * names it in messages; `knownSha256` (hex) is the digest the bytes were just verified against.
 */
export async function payloadFromBytes(bytes: Buffer, file: string, module?: string, knownSha256?: string): Promise<Payload> {
  if (bytes.subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d]))) {
    if (module) throw invalid(file, '--module applies to bundles only; this is a .wasm module');
    return { bytes, sha256: knownSha256 ?? sha256(bytes), name: path.basename(file), platform: undefined };
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return await fromBundle(file, bytes, module);
  throw invalid(file, 'neither a WebAssembly module (\\0asm) nor a gzip bundle');
}

/** A bundle's files and its parsed `<platform>/manifest.json` (PAYLOAD_INVALID naming `file` when it is not one). */
async function readBundle(file: string, gz: Buffer): Promise<{ entries: Map<string, Buffer>; manifestName: string; manifest: z.infer<typeof BundleManifest> }> {
  let entries: Map<string, Buffer>;
  try {
    entries = await readTar(gz);
  } catch (err) {
    throw invalid(file, `not a readable .tar.gz bundle (${(err as Error).message})`);
  }
  const manifestName = [...entries.keys()].find((n) => /^[^/]+\/manifest\.json$/.test(n));
  if (!manifestName) throw invalid(file, 'the bundle has no <platform>/manifest.json');
  try {
    return { entries, manifestName, manifest: BundleManifest.parse(JSON.parse(entries.get(manifestName)!.toString('utf8'))) };
  } catch (err) {
    throw invalid(file, `${manifestName} is not a bundle manifest (${(err as Error).message.split('\n')[0]})`);
  }
}

async function fromBundle(file: string, gz: Buffer, module: string | undefined): Promise<Payload> {
  const { entries, manifestName, manifest } = await readBundle(file, gz);
  const root = manifestName.slice(0, manifestName.indexOf('/') + 1);
  const names = manifest.modules.map((m) => m.file);
  const chosen = module ? names.find((n) => n === module || path.basename(n, '.wasm') === module || path.basename(n) === module) : names[0];
  if (!chosen) throw invalid(file, `no module ${JSON.stringify(module)} in the bundle; it has ${names.join(', ')}`);
  const bytes = entries.get(root + chosen);
  if (!bytes) throw invalid(file, `the manifest lists ${chosen} but the bundle does not hold it`);
  return { bytes, sha256: sha256(bytes), name: `${path.basename(file)}!${chosen}`, platform: manifest.platform };
}

/** Regular files of a tar+gzip bundle (other entry types are skipped), through the shared reader's limits. */
async function readTar(gz: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const source = (async function* () {
    yield gz;
  })();
  for await (const e of tarEntries(gunzipLimited(source))) {
    if (e.type !== '0') continue;
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    files.set(e.path.replace(/^\.\//, ''), Buffer.concat(chunks));
  }
  return files;
}

function invalid(file: string, why: string): FlightDeckError {
  return new FlightDeckError('PAYLOAD_INVALID', `Payload ${file}: ${why}.`, { details: { path: file } });
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The modules of a bundle, as `--module` names them (the file name without .wasm), and its platform; a .wasm has none. */
export async function bundleModules(
  bytes: Buffer,
  file: string,
): Promise<{ kind: 'bundle' | 'wasm'; platform?: string; modules: Array<{ name: string; file: string }> }> {
  if (bytes.subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d]))) return { kind: 'wasm', modules: [] };
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) throw invalid(file, 'neither a WebAssembly module (\\0asm) nor a gzip bundle');
  const { manifest } = await readBundle(file, bytes);
  return { kind: 'bundle', platform: manifest.platform, modules: manifest.modules.map((m) => ({ name: path.basename(m.file, '.wasm'), file: m.file })) };
}
