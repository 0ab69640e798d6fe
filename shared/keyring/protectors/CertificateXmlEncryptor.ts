import { constants, createCipheriv, createDecipheriv, privateDecrypt, publicEncrypt, randomBytes as cryptoRandomBytes, type KeyObject } from 'node:crypto';
import { KeyRingFormatError } from '../KeyRingFormatError';
import { attribute, elementChildren, textContent, type XmlElement } from '../xml/XmlNode';
import { thumbprintOf, type X509Credential } from './X509Credential';

/** What XmlEncryptionExtensions records for CertificateXmlEncryptor's output (readers strip the version). */
export const CERTIFICATE_DECRYPTOR_TYPE =
  'Microsoft.AspNetCore.DataProtection.XmlEncryption.EncryptedXmlDecryptor, Microsoft.AspNetCore.DataProtection, Version=8.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60';

const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ELEMENT_TYPE = `${XMLENC}Element`;
const AES_CBC: Record<string, number> = { [`${XMLENC}aes128-cbc`]: 16, [`${XMLENC}aes192-cbc`]: 24, [`${XMLENC}aes256-cbc`]: 32 };
/** PKCS#1 v1.5: what EncryptedXml.Encrypt(element, certificate) itself writes. */
const RSA_1_5 = `${XMLENC}rsa-1_5`;
/** RSA-OAEP with SHA-1 and MGF1-SHA1: what ringkeeper writes; EncryptedXml decrypts both. */
const RSA_OAEP = `${XMLENC}rsa-oaep-mgf1p`;
const BLOCK = 16;

/**
 * EncryptedXml.Encrypt(element, certificate) as CertificateXmlEncryptor calls it: the element's
 * OuterXml (UTF-8, no BOM) under a random AES-256-CBC key, IV prepended to the ciphertext, ISO 10126
 * padding (EncryptedXml's default), the AES key wrapped with the certificate's RSA key, the
 * certificate in the EncryptedKey's X509Data so UnprotectKeysWithAnyCertificate can find its key.
 * The one deliberate difference: the key transport is RSA-OAEP, not PKCS#1 v1.5.
 */
export function encryptWithCertificate(plaintextElementXml: string, certificate: Pick<X509Credential, 'der' | 'publicKey'>, randomBytes: (size: number) => Buffer = cryptoRandomBytes): string {
  const key = randomBytes(32);
  const iv = randomBytes(BLOCK);
  const plaintext = Buffer.from(plaintextElementXml, 'utf8');
  const padLength = BLOCK - (plaintext.length % BLOCK);
  const padding = Buffer.concat([randomBytes(padLength - 1), Buffer.from([padLength])]);
  const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(Buffer.concat([plaintext, padding])), cipher.final()]);
  const wrapped = publicEncrypt({ key: certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  key.fill(0);
  return (
    `<EncryptedData Type="${ELEMENT_TYPE}" xmlns="${XMLENC}">` +
    `<EncryptionMethod Algorithm="${XMLENC}aes256-cbc" />` +
    `<KeyInfo xmlns="${XMLDSIG}"><EncryptedKey xmlns="${XMLENC}">` +
    `<EncryptionMethod Algorithm="${RSA_OAEP}" />` +
    `<KeyInfo xmlns="${XMLDSIG}"><X509Data><X509Certificate>${certificate.der.toString('base64')}</X509Certificate></X509Data></KeyInfo>` +
    `<CipherData><CipherValue>${wrapped.toString('base64')}</CipherValue></CipherData>` +
    `</EncryptedKey></KeyInfo>` +
    `<CipherData><CipherValue>${Buffer.concat([iv, ciphertext]).toString('base64')}</CipherValue></CipherData>` +
    `</EncryptedData>`
  );
}

export interface EncryptedDataInfo {
  /** Thumbprints of the certificates the EncryptedKey names, in document order. */
  thumbprints: string[];
  keyTransport: 'rsa-1_5' | 'rsa-oaep-mgf1p';
}

/** Reads which certificates an `<EncryptedData>` was encrypted for, without decrypting anything. */
export function describeEncryptedData(encryptedData: XmlElement): EncryptedDataInfo {
  const { certificates, transport } = readEncryptedKey(readEncryptedData(encryptedData).encryptedKey);
  return { thumbprints: certificates.map(thumbprintOf), keyTransport: transport === RSA_OAEP ? 'rsa-oaep-mgf1p' : 'rsa-1_5' };
}

/**
 * Decrypts an `<EncryptedData>` as EncryptedXmlDecryptor does: the certificate named in the
 * EncryptedKey's X509Data is looked up by thumbprint among `privateKeyFor`'s certificates, the AES
 * key unwrapped (OAEP or PKCS#1 v1.5), the content decrypted. Returns the plaintext element's XML.
 */
export function decryptWithCertificate(encryptedData: XmlElement, privateKeyFor: (thumbprint: string) => KeyObject | undefined): string {
  const { algorithm, encryptedKey, cipherValue } = readEncryptedData(encryptedData);
  const { certificates, transport, cipherValue: wrapped } = readEncryptedKey(encryptedKey);
  const thumbprints = certificates.map(thumbprintOf);
  let privateKey: KeyObject | undefined;
  for (const t of thumbprints) if ((privateKey = privateKeyFor(t))) break;
  if (!privateKey) {
    throw new Error(`the secret is encrypted to certificate ${thumbprints.join(', ') || '(none named)'}, whose private key is not configured (add it to decryptionCertificates)`);
  }
  const key = transport === RSA_OAEP ? privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped) : pkcs1v15Decrypt(privateKey, wrapped);
  try {
    if (key.length !== AES_CBC[algorithm]) throw new Error(`the unwrapped content key is ${key.length} bytes, ${algorithm} needs ${AES_CBC[algorithm]}`);
    if (cipherValue.length < 2 * BLOCK || cipherValue.length % BLOCK !== 0) throw new KeyRingFormatError('<EncryptedData>', 'has a CipherValue that is not IV + whole AES blocks');
    const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, cipherValue.subarray(0, BLOCK)).setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(cipherValue.subarray(BLOCK)), decipher.final()]);
    // ISO 10126: only the last byte (the pad length) is defined; the rest is random.
    const padLength = padded[padded.length - 1]!;
    if (padLength < 1 || padLength > BLOCK) throw new Error('the decrypted content has invalid padding (wrong key?)');
    return padded.subarray(0, padded.length - padLength).toString('utf8');
  } finally {
    key.fill(0);
  }
}

function readEncryptedData(element: XmlElement): { algorithm: string; encryptedKey: XmlElement; cipherValue: Buffer } {
  const fail = (problem: string): never => {
    throw new KeyRingFormatError('<EncryptedData>', problem);
  };
  if (element.localName !== 'EncryptedData' || element.namespace !== XMLENC) fail(`expected {${XMLENC}}EncryptedData, found <${element.qname}>`);
  const method = child(element, XMLENC, 'EncryptionMethod');
  const algorithm = (method && attribute(method, 'Algorithm')) ?? fail('has no EncryptionMethod');
  if (!(algorithm in AES_CBC)) fail(`uses ${algorithm}; only AES-CBC content encryption is supported`);
  const keyInfo = child(element, XMLDSIG, 'KeyInfo') ?? fail('has no KeyInfo');
  const encryptedKey = child(keyInfo, XMLENC, 'EncryptedKey') ?? fail('names no EncryptedKey (key names and retrieval methods are not supported)');
  return { algorithm, encryptedKey, cipherValue: cipherValueOf(element, '<EncryptedData>') };
}

function readEncryptedKey(encryptedKey: XmlElement): { certificates: Buffer[]; transport: string; cipherValue: Buffer } {
  const fail = (problem: string): never => {
    throw new KeyRingFormatError('<EncryptedKey>', problem);
  };
  const method = child(encryptedKey, XMLENC, 'EncryptionMethod');
  const transport = (method && attribute(method, 'Algorithm')) ?? fail('has no EncryptionMethod');
  if (transport !== RSA_1_5 && transport !== RSA_OAEP) fail(`uses ${transport}; expected RSA PKCS#1 v1.5 or RSA-OAEP key transport`);
  const keyInfo = child(encryptedKey, XMLDSIG, 'KeyInfo');
  const certificates = (keyInfo ? elementChildren(keyInfo) : [])
    .filter((e) => e.namespace === XMLDSIG && e.localName === 'X509Data')
    .flatMap((data) => elementChildren(data).filter((e) => e.namespace === XMLDSIG && e.localName === 'X509Certificate'))
    .map((e) => Buffer.from(textContent(e).replace(/\s+/g, ''), 'base64'));
  return { certificates, transport, cipherValue: cipherValueOf(encryptedKey, '<EncryptedKey>') };
}

function cipherValueOf(element: XmlElement, name: string): Buffer {
  const value = child(child(element, XMLENC, 'CipherData') ?? element, XMLENC, 'CipherValue');
  if (!value) throw new KeyRingFormatError(name, 'has no CipherData/CipherValue');
  return Buffer.from(textContent(value).replace(/\s+/g, ''), 'base64');
}

function child(element: XmlElement, namespace: string, localName: string): XmlElement | undefined {
  return elementChildren(element).find((e) => e.namespace === namespace && e.localName === localName);
}

/**
 * RSAES-PKCS1-v1_5 decryption. Node refuses PKCS#1 v1.5 private decryption (CVE-2023-46809), so the
 * raw RSA result is unpadded here. This is no oracle: it decrypts secrets at rest, never attacker
 * traffic, and any malformed block is one error.
 */
function pkcs1v15Decrypt(privateKey: KeyObject, wrapped: Buffer): Buffer {
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, wrapped);
  const separator = block.indexOf(0, 2);
  const ok = block[0] === 0 && block[1] === 2 && separator >= 10;
  const key = ok ? Buffer.from(block.subarray(separator + 1)) : undefined;
  block.fill(0);
  if (!key) throw new Error('the wrapped content key does not decrypt under this certificate (PKCS#1 v1.5 block invalid)');
  return key;
}
