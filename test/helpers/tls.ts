import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material for a TLS test: a private CA and a server certificate it signed. */
export interface TestCertificates {
  /** The CA certificate (what clients trust). */
  readonly caPem: Buffer;
  /** The server certificate, valid only for `dnsName` (subjectAltName DNS entry; no IP entries). */
  readonly certPem: Buffer;
  /** The server's private key. */
  readonly keyPem: Buffer;
  /** The DNS name the server certificate is valid for. */
  readonly dnsName: string;
}

/**
 * Generate a throwaway CA and a server certificate for `dnsName` with the `openssl` CLI (EC P-256,
 * valid for 2 days). The certificate's subjectAltName holds only `DNS:<dnsName>` and its CN is
 * unrelated, so a client verifying against an IP address or another name must fail.
 *
 * @param dnsName the server's DNS name; default `orders.switchyard.test`.
 * @throws Error when `openssl` is missing or fails.
 */
export function createTestCertificates(dnsName = 'orders.switchyard.test'): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl('req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2',
      '-subj', '/CN=switchyard test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl('req', '-new', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'),
      '-subj', '/CN=switchyard test server');
    writeFileSync(
      file('server.ext'),
      [
        `subjectAltName=DNS:${dnsName}`,
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
      ].join('\n'),
    );
    openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext'));
    return {
      caPem: readFileSync(file('ca.pem')),
      certPem: readFileSync(file('server.pem')),
      keyPem: readFileSync(file('server.key')),
      dnsName,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
