import { describe, expect, it } from 'vitest';
import { tlsError } from '../../../../core/oci/tls-errors.js';

// The codes Node reports for the alerts a server sends (as docker-registry's Go TLS stack does).
const ctx = (clientCert: boolean) => ({
  registry: 'reg.lab:5000',
  clientCert,
  certsDir: '/c/reg.lab:5000',
  base: new URL('https://127.0.0.1:1'),
  proxy: { kind: 'direct' as const },
});

describe('tlsError', () => {
  it('tells a missing client certificate from a rejected one', async () => {
    expect((await tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'm', ctx(false), undefined))?.code).toBe('TLS_CLIENT_CERT_REQUIRED');
    expect((await tlsError('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'm', ctx(false), undefined))?.code).toBe('TLS_CLIENT_CERT_REQUIRED');
    expect((await tlsError('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'm', ctx(true), undefined))?.code).toBe('TLS_CLIENT_CERT_REJECTED');
    expect((await tlsError('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'm', ctx(true), undefined))?.code).toBe('TLS_CLIENT_CERT_REJECTED');
    const required = await tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'm', ctx(false), undefined);
    expect(required?.hint).toContain('/c/reg.lab:5000');
  });

  it('an unverifiable server certificate is TLS_UNTRUSTED naming the folder; other codes are not TLS errors', async () => {
    const e = await tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'm', ctx(false), undefined);
    expect(e?.code).toBe('TLS_UNTRUSTED');
    expect(e?.hint).toContain('--ca-file');
    expect(e?.hint).toContain('/c/reg.lab:5000');
    expect(await tlsError('ECONNREFUSED', 'm', ctx(false), undefined)).toBeUndefined();
    expect(await tlsError('ECONNRESET', 'm', ctx(true), undefined)).toBeUndefined();
  });
});
