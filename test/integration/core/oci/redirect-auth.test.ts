// Credentials only ever go to the registry they were given for (issue 15, item 7): real HTTP and TLS
// servers on 127.0.0.1 play a registry, blob storage and an attacker that records everything it receives.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../../core/oci/client.js';
import { FlightDeckError } from '../../../../core/errors.js';
import { createCredentials } from '../../../../core/credentials/credentials.js';
import type { RegistryCredential } from '../../../../core/credentials/types.js';
import { makeCert } from '../../../support/tls.js';
import { tempDir } from '../../../support/oci.js';

const PASSWORD = 'registry-password-7f3a9c';
const USER = 'alice';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const ENV_TOKEN = 'env-token-for-registry-a-91b2';
const basic: RegistryCredential = { kind: 'basic', username: USER, password: PASSWORD, source: 'flag' };
const BLOB = randomBytes(300 * 1024);
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${createHash('sha256').update('{}').digest('hex')}`, size: 2 },
    layers: [{ mediaType: 'application/octet-stream', digest: BLOB_DIGEST, size: BLOB.length }],
  }),
);

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

interface Server {
  origin: string;
  host: string;
  seen: Seen[];
  close(): Promise<void>;
}

type Handle = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** An http or https server on 127.0.0.1:0 that records every request (headers and body) before answering. */
async function serve(handle: Handle, tlsPair?: { cert: string; key: string }): Promise<Server> {
  const seen: Seen[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('latin1')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handle(req, res, body);
    });
  };
  const server = tlsPair ? https.createServer({ cert: tlsPair.cert, key: tlsPair.key }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${tlsPair ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Everything a server received, as one string: no secret may appear in it in any encoding. */
function received(s: Server): string {
  return JSON.stringify(s.seen);
}

function expectNoSecret(s: Server): void {
  const all = received(s);
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  expect(all).not.toContain(ENV_TOKEN);
  expect(all).not.toContain(`account=${USER}`);
}

async function failure(p: Promise<unknown>): Promise<FlightDeckError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlightDeckError);
  return err as FlightDeckError;
}

/** The attacker: any request gets a 401 whose challenge names its own token realm; the realm hands out tokens. */
async function attackerServer(scheme: 'Bearer' | 'Basic'): Promise<Server> {
  const s: Server = await serve((req, res) => {
    if ((req.url ?? '').startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'attacker-token' }));
      return;
    }
    res.writeHead(401, {
      'www-authenticate': scheme === 'Bearer' ? `Bearer realm="${s.origin}/token",service="evil"` : 'Basic realm="evil"',
    });
    res.end();
  });
  return s;
}

/** A registry that requires Basic alice:PASSWORD and redirects blob and manifest GETs to `target()`. */
async function redirectingRegistry(target: () => string, tlsPair?: { cert: string; key: string }): Promise<Server> {
  return serve((req, res) => {
    if (req.headers.authorization !== BASIC) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
      return;
    }
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    res.writeHead(307, { location: `${target()}${req.url ?? ''}` }).end();
  }, tlsPair);
}

describe('a redirect to another origin never gets the registry credentials', () => {
  for (const scheme of ['Bearer', 'Basic'] as const) {
    it(`a 401 ${scheme} challenge from the redirect target is not answered: nothing secret reaches it`, async () => {
      const attacker = await attackerServer(scheme);
      const registry = await redirectingRegistry(() => attacker.origin);
      const c = new RegistryClient(registry.host, { plainHttp: true, retries: 0, credentials: async () => basic });
      try {
        const m = await failure(c.getManifest('flight/app', 'v1'));
        expect(m.code).toBe('REGISTRY_UNAUTHORIZED');
        expect(m.message).toContain(attacker.host);
        const b = await failure(c.getBlob('flight/app', BLOB_DIGEST, 0));
        expect(b.code).toBe('REGISTRY_UNAUTHORIZED');
        // The attacker was asked (the redirects were followed) but never got a credential, nor a token request.
        expect(attacker.seen.length).toBeGreaterThan(0);
        expect(attacker.seen.filter((r) => r.url.startsWith('/token'))).toEqual([]);
        expect(attacker.seen.map((r) => r.authorization).filter(Boolean)).toEqual([]);
        expectNoSecret(attacker);
        // The registry itself did get the credentials it asked for.
        expect(registry.seen.some((r) => r.authorization === BASIC)).toBe(true);
      } finally {
        c.close();
        await registry.close();
        await attacker.close();
      }
    });
  }

  it('blob and manifest redirects to a storage origin (pre-signed URLs) keep working, without Authorization there', async () => {
    const storage = await serve((req, res) => {
      // Like S3 with a pre-signed URL: a request that also carries Authorization is refused.
      if (req.headers.authorization) return void res.writeHead(400).end('two auth mechanisms');
      if ((req.url ?? '').includes('/blobs/')) return void res.writeHead(200, { 'content-length': String(BLOB.length) }).end(BLOB);
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(MANIFEST.length) }).end(MANIFEST);
    });
    const registry = await redirectingRegistry(() => `${storage.origin}/bucket`);
    const c = new RegistryClient(registry.host, { plainHttp: true, retries: 0, credentials: async () => basic });
    try {
      const m = await c.getManifest('flight/app', 'v1');
      expect(m.bytes.equals(MANIFEST)).toBe(true);
      const res = await c.getBlob('flight/app', BLOB_DIGEST, 0);
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(BLOB)).toBe(true);
      expect(storage.seen).toHaveLength(2);
      expectNoSecret(storage);
      expect(storage.seen.map((r) => r.authorization)).toEqual([undefined, undefined]);
    } finally {
      c.close();
      await registry.close();
      await storage.close();
    }
  });
});

describe('an https registry', () => {
  let pair: { cert: string; key: string; certPem: string };
  beforeAll(() => {
    const files = makeCert(tempDir('fd-redirect-auth-'), 'registry');
    pair = { cert: files.certPem, key: readFileSync(files.key, 'utf8'), certPem: files.certPem };
  });

  it('naming a plain-http token realm is refused with REGISTRY_UNSAFE before any credential is sent', async () => {
    const attacker = await attackerServer('Bearer');
    const registry = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${attacker.origin}/token",service="registry"` }).end();
    }, pair);
    const c = new RegistryClient(registry.host, { plainHttp: false, ca: pair.certPem, retries: 0, credentials: async () => basic });
    try {
      const err = await failure(c.getManifest('flight/app', 'v1'));
      expect(err.code).toBe('REGISTRY_UNSAFE');
      expect(err.message).toContain('plain-http token service');
      expect(err.hint).toMatch(/https/);
      expect(attacker.seen).toEqual([]);
    } finally {
      c.close();
      await registry.close();
      await attacker.close();
    }
  });

  it('redirecting to plain http is refused with REGISTRY_UNSAFE: the http origin receives nothing', async () => {
    const plain = await serve((_req, res) => void res.writeHead(200, { 'content-length': String(MANIFEST.length) }).end(MANIFEST));
    const registry = await redirectingRegistry(() => plain.origin, pair);
    const c = new RegistryClient(registry.host, { plainHttp: false, ca: pair.certPem, retries: 0, credentials: async () => basic });
    try {
      for (const call of [() => c.getManifest('flight/app', 'v1'), () => c.getBlob('flight/app', BLOB_DIGEST, 0)]) {
        const err = await failure(call());
        expect(err.code).toBe('REGISTRY_UNSAFE');
        expect(err.message).toContain('from https to plain http');
      }
      expect(plain.seen).toEqual([]);
    } finally {
      c.close();
      await registry.close();
      await plain.close();
    }
  });
});

describe('flag and env credentials are scoped to the registry of the command', () => {
  let other: Server;
  beforeAll(async () => {
    // Registry B: asks for credentials like any registry would (Basic and, on the token path, Bearer).
    other = await serve((req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="b"' }).end();
    });
  });
  afterAll(() => other.close());

  it('FLIGHTDECK_REGISTRY_TOKEN and --username given for registry A are never sent to registry B', async () => {
    const creds = createCredentials({
      env: { FLIGHTDECK_REGISTRY_TOKEN: ENV_TOKEN, DOCKER_CONFIG: '/nonexistent' },
      verify: async () => undefined,
    });
    // The command's target is registry A (127.0.0.1:1); the same process then talks to registry B.
    for (const flag of [undefined, { username: USER, password: PASSWORD, registry: '127.0.0.1:1' }]) {
      const c = new RegistryClient(other.host, { plainHttp: true, retries: 0, credentials: creds.provider(flag, '127.0.0.1:1') });
      try {
        const err = await failure(c.getManifest('flight/app', 'v1'));
        expect(err.code).toBe('REGISTRY_UNAUTHORIZED');
        expect(err.message).toContain('needs credentials');
      } finally {
        c.close();
      }
    }
    expect(other.seen.length).toBeGreaterThan(0);
    expect(other.seen.map((r) => r.authorization).filter(Boolean)).toEqual([]);
    expectNoSecret(other);
    // For registry A itself both are handed out (flag first).
    expect(await creds.provider(undefined, '127.0.0.1:1')('127.0.0.1:1')).toMatchObject({ kind: 'bearer', source: 'env' });
    expect(await creds.provider({ username: USER, password: PASSWORD, registry: '127.0.0.1:1' }, '127.0.0.1:1')('127.0.0.1:1')).toMatchObject({
      kind: 'basic',
      source: 'flag',
    });
    // A process with no command target (web host, app) does not use the env token at all.
    expect(await creds.provider()(other.host)).toBeUndefined();
  });
});
