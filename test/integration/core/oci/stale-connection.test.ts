import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../../core/oci/client.js';

// A kept-alive connection that the server closes as the next request goes out on it (what tinyproxy does
// to an idle connection under a push): the request got no answer, so the client sends it once more on a
// fresh connection, whatever its method. A real node:http server: the first request on a connection is
// answered with keep-alive; the next one on that same connection is cut without an answer.

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function cuttingServer(cut: (n: number) => boolean, opts: { cutFresh?: (r: { method: string }) => boolean } = {}) {
  const seen: Array<{ method: string; url: string; connection: number }> = [];
  const perSocket = new Map<Socket, number>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    if (!perSocket.has(socket)) perSocket.set(socket, ++connections);
    const onThisSocket = (socket as Socket & { served?: number }).served ?? 0;
    (socket as Socket & { served?: number }).served = onThisSocket + 1;
    seen.push({ method: req.method!, url: req.url!, connection: perSocket.get(socket)! });
    req.resume();
    req.on('end', () => {
      // The second request on a connection: closed with no answer at all (a reset, as a proxy does).
      if (onThisSocket >= 1 && cut(seen.length)) return socket.resetAndDestroy();
      if (onThisSocket === 0 && opts.cutFresh?.({ method: req.method! })) return socket.resetAndDestroy();
      if (req.method === 'POST') {
        res.writeHead(202, { location: '/v2/flight/x/blobs/uploads/session-1', 'docker-upload-uuid': 'session-1', 'content-length': '0' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections };
}

/** A GET whose body is read to the end, so its connection goes back to the pool, idle and kept alive. */
async function get(c: RegistryClient): Promise<number> {
  const res = await c.request({ method: 'GET', path: '/v2/', scopes: [] });
  res.body.resume();
  await new Promise((r) => res.body.on('end', r));
  return res.status;
}

describe('a reused connection closed under a request', () => {
  it('a POST (upload start) is sent once more on a fresh connection and succeeds; not counted as a retry', async () => {
    const s = await cuttingServer(() => true);
    const c = new RegistryClient(s.host, { plainHttp: true, retries: 0 });
    try {
      expect(await get(c)).toBe(200);
      const res = await c.request({ method: 'POST', path: '/v2/flight/x/blobs/uploads/', scopes: [] });
      expect(res.status).toBe(202);
      res.body.resume();
      // GET on connection 1, the POST cut on connection 1, the POST again on connection 2.
      expect(s.seen.map((r) => `${r.method} ${r.connection}`)).toEqual(['GET 1', 'POST 1', 'POST 2']);
      expect(c.retriesDone).toBe(0);
    } finally {
      c.close();
    }
  });

  it('the resend takes a new connection, not another idle one the server closed at the same moment', async () => {
    // Two idle kept-alive connections, both of which the server cuts on their next request: the POST goes
    // out on one and is cut; the resend must not take the other.
    const s = await cuttingServer(() => true);
    const c = new RegistryClient(s.host, { plainHttp: true, retries: 0 });
    try {
      await Promise.all([get(c), get(c)]);
      expect(s.connections()).toBe(2);
      const res = await c.request({ method: 'POST', path: '/v2/flight/x/blobs/uploads/', scopes: [] });
      expect(res.status).toBe(202);
      res.body.resume();
      const posts = s.seen.filter((r) => r.method === 'POST').map((r) => r.connection);
      expect(posts).toHaveLength(2);
      expect(posts[0]).toBeLessThanOrEqual(2);
      expect(posts[1]).toBe(3);
    } finally {
      c.close();
    }
  });

  it('only once: a resend cut again fails the request, naming the registry', async () => {
    // This server also cuts the first request of a connection once the POST was seen: the resend (on a new
    // connection) is cut too, and there is no third try.
    const s = await cuttingServer(() => true, { cutFresh: (r) => r.method === 'POST' });
    const c = new RegistryClient(s.host, { plainHttp: true, retries: 0 });
    try {
      expect(await get(c)).toBe(200);
      await expect(c.request({ method: 'POST', path: '/v2/flight/x/blobs/uploads/', scopes: [] })).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
      expect(s.seen.filter((r) => r.method === 'POST')).toHaveLength(2);
    } finally {
      c.close();
    }
  });
});
