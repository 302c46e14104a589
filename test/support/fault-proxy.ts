/**
 * A fault-injecting HTTP proxy in front of a real registry. Requests pass through unchanged unless a
 * rule matches (method + path regex, optionally only the first `times` matches); then the answer is
 * altered: an error status, a corrupted/short/long body, a connection reset mid-body, a slow body, a
 * redirect to another host, a replaced body, or a Range request the server ignores or answers wrongly;
 * or a registry outage (the connection closed unanswered), a barrier that holds requests until several
 * have arrived (so concurrent clients overlap by construction), a body that stalls until the test says
 * (or, without a gate, until the client hangs up).
 * Every request is logged (method, path, Range, whether Authorization was present, status).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'corrupt' }
  | { kind: 'short' }
  | { kind: 'long'; extra: number }
  | { kind: 'reset'; after: number }
  | { kind: 'slow'; delayMs: number; chunk: number }
  /**
   * Send the headers (full Content-Length) and the first `after` bytes of the body (never all of it:
   * at most length - 1), then nothing more until the client hangs up. A download that is slow by
   * construction: it cannot finish, whatever the machine's speed, so a test can look at it mid-way.
   */
  | { kind: 'stall'; after: number; until?: undefined }
  | { kind: 'redirect'; to: string }
  | { kind: 'replace'; body: Buffer; contentType?: string }
  | { kind: 'ignore-range' }
  | { kind: 'bad-range' }
  /** The connection is closed without an answer, as a registry that is down. */
  | { kind: 'drop' }
  /** Held until `count` requests matched, then all pass through unchanged. */
  | { kind: 'barrier'; count: number }
  /** The first `after` bytes of the body, then nothing until `until` resolves, then the rest. */
  | { kind: 'stall'; after: number; until: Promise<void> };

export interface FaultRule {
  method?: string;
  path: RegExp;
  fault: Fault;
  /** Apply to the first N matches only (default: always). */
  times?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: boolean;
  status: number;
  fault: string | undefined;
}

export interface FaultProxy {
  host: string;
  url: string;
  log: LoggedRequest[];
  rules: FaultRule[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const rules: FaultRule[] = [];
  const log: LoggedRequest[] = [];
  const barriers = new Map<Fault, { arrived: number; release: Array<() => void> }>();
  const server = http.createServer(async (req, res) => {
    const pathname = req.url ?? '/';
    const rule = rules.find((r) => (!r.method || r.method === req.method) && r.path.test(pathname) && (r.times === undefined || r.times > 0));
    if (rule && rule.times !== undefined) rule.times--;
    const fault = rule?.fault;
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: pathname,
      range: req.headers.range,
      authorization: Boolean(req.headers.authorization),
      status: 0,
      fault: fault?.kind,
    };
    log.push(entry);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'barrier') {
      const b = barriers.get(fault) ?? { arrived: 0, release: [] };
      barriers.set(fault, b);
      b.arrived++;
      if (b.arrived < fault.count) await new Promise<void>((r) => b.release.push(r));
      else for (const r of b.release.splice(0)) r();
    }
    if (fault?.kind === 'status') {
      entry.status = fault.status;
      req.resume();
      res
        .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        .end(fault.body ?? '{"errors":[{"code":"FAULT","message":"injected"}]}');
      return;
    }
    if (fault?.kind === 'redirect') {
      entry.status = 307;
      req.resume();
      res.writeHead(307, { location: `${fault.to}${pathname}` }).end();
      return;
    }
    const headers = { ...req.headers, host: target.host };
    if (fault?.kind === 'ignore-range' || fault?.kind === 'bad-range') delete headers.range;
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: pathname, headers }, async (ur) => {
      entry.status = ur.statusCode ?? 0;
      const outHeaders = { ...ur.headers };
      const passthrough = !fault || fault.kind === 'ignore-range' || fault.kind === 'barrier' || (ur.statusCode ?? 0) >= 300 || req.method === 'HEAD';
      if (passthrough) {
        res.writeHead(ur.statusCode ?? 502, outHeaders);
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of ur) chunks.push(c as Buffer);
      let body: Buffer = Buffer.concat(chunks);
      switch (fault.kind) {
        case 'corrupt':
          body = Buffer.from(body);
          if (body.length > 0) body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff;
          break;
        case 'short':
          body = body.subarray(0, body.length >> 1);
          break;
        case 'long':
          body = Buffer.concat([body, Buffer.alloc(fault.extra, 0x41)]);
          break;
        case 'replace':
          body = fault.body;
          if (fault.contentType) outHeaders['content-type'] = fault.contentType;
          delete outHeaders['docker-content-digest'];
          break;
        case 'bad-range': {
          const total = body.length;
          entry.status = 206;
          res.writeHead(206, { ...outHeaders, 'content-length': String(total - 1), 'content-range': `bytes 1-${total - 1}/${total}` });
          res.end(body.subarray(1));
          return;
        }
        case 'reset':
          res.writeHead(ur.statusCode ?? 200, { ...outHeaders, 'content-length': String(body.length) });
          res.write(body.subarray(0, fault.after), () => setTimeout(() => res.socket?.destroy(), 20));
          return;
        case 'stall': {
          res.writeHead(ur.statusCode ?? 200, { ...outHeaders, 'content-length': String(body.length) });
          if (fault.until) {
            res.write(body.subarray(0, fault.after));
            await fault.until;
            res.end(body.subarray(fault.after));
          } else {
            res.write(body.subarray(0, Math.min(fault.after, Math.max(0, body.length - 1))));
            await new Promise((r) => res.once('close', r));
          }
          return;
        }
        case 'slow':
          res.writeHead(ur.statusCode ?? 200, { ...outHeaders, 'content-length': String(body.length) });
          for (let i = 0; i < body.length; i += fault.chunk) {
            res.write(body.subarray(i, i + fault.chunk));
            await sleep(fault.delayMs);
          }
          res.end();
          return;
      }
      res.writeHead(ur.statusCode ?? 200, { ...outHeaders, 'content-length': String(body.length) });
      res.end(body);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    log,
    rules,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A server on another host name that records the headers it gets and answers 200 with `body`. */
export async function startRecordingServer(
  body: Buffer,
): Promise<{ url: string; seen: Array<{ path: string; authorization: string | undefined }>; stop(): Promise<void> }> {
  const seen: Array<{ path: string; authorization: string | undefined }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '/', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    // "localhost" is a different host (and origin) from the registry's 127.0.0.1.
    url: `http://localhost:${port}`,
    seen,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
