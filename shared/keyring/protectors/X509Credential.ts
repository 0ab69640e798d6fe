import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** An X.509 certificate with its RSA public key and, when available, the private key. */
export interface X509Credential {
  /** DER bytes, as `<X509Certificate>` carries them (base64). */
  readonly der: Buffer;
  /** SHA-1 of the DER in upper-case hex: what X509Certificate2.Thumbprint and Key Vault's x5t name. */
  readonly thumbprint: string;
  readonly subject: string;
  readonly publicKey: KeyObject;
  /** Absent for a public-only certificate (enough to encrypt, not to decrypt). */
  readonly privateKey?: KeyObject;
}

export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** Builds a credential from DER and an optional private key; refuses non-RSA or mismatched keys. */
export function x509Credential(der: Buffer, privateKey: KeyObject | undefined, where: string): X509Credential {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    throw new Error(`${where}: not an X.509 certificate (${firstLine(err)})`);
  }
  const publicKey = cert.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`${where}: the certificate's key is ${publicKey.asymmetricKeyType}, not RSA (EncryptedXml wraps with RSA)`);
  if (privateKey) {
    if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`${where}: the private key is ${privateKey.asymmetricKeyType}, not RSA`);
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    if (!spki(createPublicKey(privateKey)).equals(spki(publicKey))) throw new Error(`${where}: the private key does not belong to the certificate ${cert.subject}`);
  }
  return { der: Buffer.from(cert.raw), thumbprint: thumbprintOf(Buffer.from(cert.raw)), subject: cert.subject, publicKey, privateKey };
}

/**
 * A PEM file or text: the first CERTIFICATE block is the certificate, a PRIVATE KEY block (PKCS#8
 * or PKCS#1) its key. Key Vault's `application/x-pem-file` secrets have this shape.
 */
export function credentialFromPem(pem: string, where: string): X509Credential {
  const certBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!certBlock) throw new Error(`${where}: no "BEGIN CERTIFICATE" block`);
  const der = new X509Certificate(certBlock[0]).raw;
  const keyBlock = /-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END \1?PRIVATE KEY-----/.exec(pem);
  if (keyBlock?.[1] === 'ENCRYPTED ') throw new Error(`${where}: the private key is encrypted; use an unencrypted PEM or a PFX with a password`);
  let privateKey: KeyObject | undefined;
  if (keyBlock) {
    try {
      privateKey = createPrivateKey(keyBlock[0]);
    } catch (err) {
      throw new Error(`${where}: the private key does not parse (${firstLine(err)})`);
    }
  }
  return x509Credential(Buffer.from(der), privateKey, where);
}

/**
 * A PKCS#12 (PFX) file: the certificate whose public key matches a private key in it (the leaf),
 * else the only certificate. Node's crypto has no PKCS#12 reader, hence node-forge for the container.
 */
export function credentialFromPfx(pfx: Buffer, password: string | undefined, where: string): X509Credential {
  let p12: forge.pkcs12.Pkcs12Pfx | undefined;
  let failure: unknown;
  // "No password" is encoded two ways (a null and an empty BMPString; .NET exports the former): try both, as .NET does.
  for (const candidate of password === undefined ? [undefined, ''] : [password]) {
    try {
      const asn1 = forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary')));
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, candidate as string);
      break;
    } catch (err) {
      failure = err;
    }
  }
  if (!p12) throw new Error(`${where}: not a readable PKCS#12 file or wrong password (${firstLine(failure)})`);
  const certs: Buffer[] = [];
  const keys: KeyObject[] = [];
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === forge.pki.oids.certBag && bag.cert) {
        certs.push(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary'));
      } else if (bag.type === forge.pki.oids.certBag && bag.asn1) {
        certs.push(certBagDer(bag.asn1));
      } else if ((bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) && bag.key) {
        keys.push(createPrivateKey(forge.pki.privateKeyToPem(bag.key)));
      }
    }
  }
  if (certs.length === 0) throw new Error(`${where}: the PKCS#12 file holds no certificate`);
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  for (const der of certs) {
    const publicKey = new X509Certificate(der).publicKey;
    const key = keys.find((k) => spki(createPublicKey(k)).equals(spki(publicKey)));
    if (key) return x509Credential(der, key, where);
  }
  if (keys.length > 0) throw new Error(`${where}: no certificate in the PKCS#12 file matches its private key`);
  if (certs.length > 1) throw new Error(`${where}: the PKCS#12 file holds ${certs.length} certificates and no private key; cannot tell which one to use`);
  return x509Credential(certs[0]!, undefined, where);
}

/** A certBag whose certificate forge could not decode (e.g. a key type it does not know): the raw DER. */
function certBagDer(asn1: forge.asn1.Asn1): Buffer {
  // CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
  const value = (asn1.value as forge.asn1.Asn1[])[1]!;
  const octets = (value.value as forge.asn1.Asn1[])[0]!;
  return Buffer.from(octets.value as string, 'binary');
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
