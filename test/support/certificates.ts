/** Self-signed RSA certificates for tests, made with the openssl CLI: PEM (cert + key) and PFX. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  dir: string;
  /** Certificate and unencrypted PKCS#8 key in one file. */
  pemFile: string;
  certPem: string;
  keyPem: string;
  /** PKCS#12 of the same certificate and key. */
  pfxFile: string;
  pfxPassword: string;
}

export function makeTestCertificate(cn = 'ringkeeper-test', pfxPassword = ''): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'rk-cert-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${cn}`], { stdio: 'pipe' });
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  const pemFile = path.join(dir, 'cert-and-key.pem');
  writeFileSync(pemFile, certPem + keyPem);
  const pfxFile = path.join(dir, 'cert.pfx');
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-out', pfxFile, '-passout', `pass:${pfxPassword}`], { stdio: 'pipe' });
  return { dir, pemFile, certPem, keyPem, pfxFile, pfxPassword };
}
