import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
  certPem: string;
}

/** A self-signed certificate (RSA 2048, SAN 127.0.0.1 + localhost) made by openssl in `dir`. */
export function makeCert(dir: string, name: string, cn = 'flightdeck-test'): CertPair {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}

/** A test CA (RSA 2048, CA:true) made by openssl in `dir`. */
export function makeCa(dir: string, name: string, cn = `${name} test CA`): CertPair {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}

/**
 * A certificate signed by `ca`: a server certificate for 127.0.0.1 + localhost, or a client certificate
 * (`client: true`, extendedKeyUsage clientAuth). Files `<name>.<certExt>` (default crt) and `<name>.key`.
 */
export function signCert(dir: string, ca: CertPair, name: string, opts: { client?: boolean; cn?: string; certExt?: string } = {}): CertPair {
  const cert = path.join(dir, `${name}.${opts.certExt ?? 'crt'}`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', key, '-out', csr, '-subj', `/CN=${opts.cn ?? name}`], {
    stdio: 'ignore',
  });
  writeFileSync(ext, opts.client ? 'extendedKeyUsage=clientAuth\n' : 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert],
    {
      stdio: 'ignore',
    },
  );
  chmodSync(key, 0o600);
  return { cert, key, certPem: readFileSync(cert, 'utf8') };
}
