/**
 * TLS failures of a registry connection as errors that name the fix: an untrusted server certificate
 * (TLS_UNTRUSTED, with the certificate's issuer and where to put its CA), a registry that wants a client
 * certificate (TLS_CLIENT_CERT_REQUIRED) or refuses the one given (TLS_CLIENT_CERT_REJECTED).
 */
import tls from 'node:tls';
import net from 'node:net';
import { FlightDeckError } from '../errors.js';
import { connectTunnel, proxyFor, type ProxySetting } from './proxy.js';

/** Alerts a server sends when it wants a client certificate and got none. */
const CLIENT_CERT_REQUIRED = /CERTIFICATE_REQUIRED/;
/** Alerts a server sends about the client certificate it got (or, without one, a server that wanted one). */
const CLIENT_CERT_ALERT =
  /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE|DECRYPT_ERROR)/;
/** Verification failures of the server's certificate. */
const UNTRUSTED =
  /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED|ERR_TLS_CERT_ALTNAME_INVALID|CERT_SIGNATURE_FAILURE|INVALID_CA/;

export interface TlsContext {
  registry: string;
  /** Whether this client presented a client certificate. */
  clientCert: boolean;
  /** The certs.d folder this registry's files would go in (for the hint). */
  certsDir?: string | undefined;
  base: URL;
  proxy?: ProxySetting | undefined;
  /** Trust settings of the client, for the issuer probe (only `ca` and `servername` matter). */
  ca?: tls.ConnectionOptions['ca'];
}

export function isClientCertFailure(code: string): boolean {
  return CLIENT_CERT_REQUIRED.test(code) || CLIENT_CERT_ALERT.test(code);
}

/** A TLS failure as a Flight Deck error, or undefined when `code` is not one of these. */
export async function tlsError(code: string, message: string, ctx: TlsContext, cause: unknown): Promise<FlightDeckError | undefined> {
  const details = { registry: ctx.registry, code };
  if (CLIENT_CERT_REQUIRED.test(code) || (!ctx.clientCert && CLIENT_CERT_ALERT.test(code))) {
    return new FlightDeckError('TLS_CLIENT_CERT_REQUIRED', `${ctx.registry} requires a client certificate (${message}).`, {
      cause,
      hint: `Give its certificate and key: --cert-file FILE --key-file FILE, or put NAME.cert + NAME.key in ${ctx.certsDir ?? `<certs.d>/${ctx.registry}/`} (docs/registries.md).`,
      details,
    });
  }
  if (ctx.clientCert && CLIENT_CERT_ALERT.test(code)) {
    return new FlightDeckError('TLS_CLIENT_CERT_REJECTED', `${ctx.registry} rejected the client certificate (${message}).`, { cause, details });
  }
  if (UNTRUSTED.test(code)) {
    const issuer = await peerIssuer(ctx).catch(() => undefined);
    const where = ctx.certsDir ?? `<certs.d>/${ctx.registry}/`;
    return new FlightDeckError('TLS_UNTRUSTED', `The certificate of ${ctx.registry} is not trusted (${code})${issuer ? `: issued by "${issuer}"` : ''}.`, {
      cause,
      hint: `Add the CA${issuer ? ` "${issuer}"` : ''} (PEM): --ca-file FILE, a *.crt file in ${where}, or "ca" for ${ctx.registry} in config.json; --insecure only for a test registry.`,
      details: { ...details, ...(issuer ? { issuer } : {}) },
    });
  }
  return undefined;
}

/**
 * The issuer of the top certificate the server presents, read by a handshake that does not verify it (only
 * the ClientHello is sent; the connection is closed right after). For the error message only.
 */
async function peerIssuer(ctx: TlsContext): Promise<string | undefined> {
  const host = ctx.base.hostname.startsWith('[') ? ctx.base.hostname.slice(1, -1) : ctx.base.hostname;
  const port = Number(ctx.base.port || 443);
  const via = proxyFor(ctx.base, ctx.proxy);
  const socket = via ? await connectTunnel(via, host, port, { timeoutMs: 10_000 }) : undefined;
  return new Promise<string | undefined>((resolve) => {
    const s = tls.connect({ host, port, socket, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.once('secureConnect', () => {
      let cert = s.getPeerCertificate(true);
      const seen = new Set<string>();
      // Walk to the top of the chain the server sent: its issuer is the CA to add.
      while (cert?.issuerCertificate && cert.issuerCertificate !== cert && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        cert = cert.issuerCertificate;
      }
      const issuer = cert?.issuer ? (cert.issuer.CN ?? cert.issuer.O ?? undefined) : undefined;
      clearTimeout(timer);
      s.destroy();
      resolve(typeof issuer === 'string' ? issuer : Array.isArray(issuer) ? issuer.join(', ') : undefined);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    s.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
