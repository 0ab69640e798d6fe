import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { masterKeyXml } from '../../../shared/keyring/KeyXmlWriter';
import { decryptWithCertificate, describeEncryptedData, encryptWithCertificate } from '../../../shared/keyring/protectors/CertificateXmlEncryptor';
import { credentialFromPem, credentialFromPfx, type X509Credential } from '../../../shared/keyring/protectors/X509Credential';
import { parseXml } from '../../../shared/keyring/xml/parseXml';
import { makeTestCertificate, type TestCertificate } from '../../support/certificates';

const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';

let cert: TestCertificate;
let credential: X509Credential;
beforeAll(() => {
  cert = makeTestCertificate('rk-unit', 'p@ss');
  credential = credentialFromPem(readFileSync(cert.pemFile, 'utf8'), 'test');
});

const keyFor = (c: X509Credential) => (t: string) => (t === c.thumbprint ? c.privateKey : undefined);

describe('X509Credential', () => {
  it('reads the same certificate and key from PEM and from a password-protected PFX', () => {
    const fromPfx = credentialFromPfx(readFileSync(cert.pfxFile), 'p@ss', 'pfx');
    expect(fromPfx.thumbprint).toBe(credential.thumbprint);
    expect(fromPfx.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(fromPfx.privateKey).toBeDefined();
    expect(fromPfx.der.equals(credential.der)).toBe(true);
  });

  it('names the file problem: wrong PFX password, missing certificate, key of another certificate', () => {
    expect(() => credentialFromPfx(readFileSync(cert.pfxFile), 'wrong', 'rings[0].protector')).toThrow(/rings\[0\]\.protector: .*wrong password/);
    expect(() => credentialFromPem(cert.keyPem, 'x')).toThrow(/x: no "BEGIN CERTIFICATE" block/);
    const other = makeTestCertificate('other');
    expect(() => credentialFromPem(cert.certPem + other.keyPem, 'x')).toThrow(/does not belong to the certificate/);
  });
});

describe('EncryptedXml format (CertificateXmlEncryptor / EncryptedXmlDecryptor)', () => {
  it('writes EncryptedData with AES-256-CBC content, RSA-OAEP key transport and the certificate in X509Data', () => {
    const xml = encryptWithCertificate(masterKeyXml(Buffer.alloc(64, 7)), credential);
    const root = parseXml(xml).root;
    expect(root.localName).toBe('EncryptedData');
    expect(root.namespace).toBe(XMLENC);
    expect(xml).toContain(`Type="${XMLENC}Element"`);
    expect(xml).toContain(`<EncryptionMethod Algorithm="${XMLENC}aes256-cbc" />`);
    expect(xml).toContain(`<EncryptionMethod Algorithm="${XMLENC}rsa-oaep-mgf1p" />`);
    expect(xml).toContain(`<X509Certificate>${credential.der.toString('base64')}</X509Certificate>`);
    expect(describeEncryptedData(root)).toEqual({ thumbprints: [credential.thumbprint], keyTransport: 'rsa-oaep-mgf1p' });
  });

  it('round-trips the master key element byte for byte, for plaintexts of every padding length', () => {
    for (let extra = 0; extra < 17; extra++) {
      const plaintext = masterKeyXml(randomBytes(64)) + '<!--' + 'x'.repeat(extra) + '-->';
      const xml = encryptWithCertificate(plaintext, credential);
      expect(decryptWithCertificate(parseXml(xml).root, keyFor(credential))).toBe(plaintext);
    }
  });

  it('reads what EncryptedXml.Encrypt(element, certificate) itself writes: RSA PKCS#1 v1.5, ISO 10126 padding', () => {
    // Built field by field as EncryptedXml does it, since Node cannot produce it through encryptWithCertificate.
    const plaintext = Buffer.from(masterKeyXml(Buffer.alloc(64, 9)), 'utf8');
    const key = randomBytes(32);
    const iv = randomBytes(16);
    const pad = 16 - (plaintext.length % 16);
    const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const body = Buffer.concat([cipher.update(Buffer.concat([plaintext, randomBytes(pad - 1), Buffer.from([pad])])), cipher.final()]);
    const wrapped = publicEncrypt({ key: credential.publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
    const xml =
      `<EncryptedData Type="${XMLENC}Element" xmlns="${XMLENC}"><EncryptionMethod Algorithm="${XMLENC}aes256-cbc" />` +
      `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><EncryptedKey xmlns="${XMLENC}"><EncryptionMethod Algorithm="${XMLENC}rsa-1_5" />` +
      `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${credential.der.toString('base64')}</X509Certificate></X509Data></KeyInfo>` +
      `<CipherData><CipherValue>${wrapped.toString('base64')}</CipherValue></CipherData></EncryptedKey></KeyInfo>` +
      `<CipherData><CipherValue>${Buffer.concat([iv, body]).toString('base64')}</CipherValue></CipherData></EncryptedData>`;
    expect(decryptWithCertificate(parseXml(xml).root, keyFor(credential))).toBe(plaintext.toString('utf8'));
  });

  it("refuses without the named certificate's private key, and with a tampered wrapped key", () => {
    const other = credentialFromPem(readFileSync(makeTestCertificate('other').pemFile, 'utf8'), 'other');
    const xml = encryptWithCertificate(masterKeyXml(), credential);
    expect(() => decryptWithCertificate(parseXml(xml).root, keyFor(other))).toThrow(new RegExp(`certificate ${credential.thumbprint}, whose private key is not configured`));
    const tampered = xml.replace(/(<EncryptedKey[\s\S]*?<CipherValue>)(.)/, (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'));
    expect(() => decryptWithCertificate(parseXml(tampered).root, keyFor(credential))).toThrow();
  });
});
