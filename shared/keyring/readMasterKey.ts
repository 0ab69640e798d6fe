import type { KeyEntry } from './KeyRing';
import { MASTER_KEY_BYTES } from './KeyXmlWriter';
import { DATA_PROTECTION_NAMESPACE } from './XmlConstants';
import { decryptXmlElement } from './protectors/AzureKeyVaultXmlEncryptor';
import { parseXml } from './xml/parseXml';
import { attribute, elementChildren, textContent, type XmlElement } from './xml/XmlNode';

/** Unwraps a content key recorded under `kid` (KeyProtector.unwrap). */
export type Unwrap = (kid: string, wrapped: Buffer) => Promise<Buffer>;

/** Key protections whose master key ringkeeper can read. */
export function canReadMasterKey(key: Pick<KeyEntry, 'protection'>): boolean {
  return key.protection === 'none' || key.protection === 'keyvault' || key.protection === 'rsa';
}

/**
 * A key's 64-byte master key (the KDK of its authenticated encryptor), decrypting the descriptor's
 * `<encryptedSecret>` where there is one. Throws naming what is wrong; the message never carries key material.
 */
export async function readMasterKey(key: KeyEntry, unwrap: Unwrap): Promise<Buffer> {
  switch (key.protection) {
    case 'none':
      return masterKeyValue(findMasterKey(key.element));
    case 'keyvault':
    case 'rsa': {
      const plaintext = await decryptXmlElement(findEncryptedKey(key.element), unwrap);
      return masterKeyValue(parseXml(plaintext).root);
    }
    default:
      throw new Error(`ringkeeper cannot unwrap ${key.protection}-protected keys`);
  }
}

function masterKeyValue(masterKey: XmlElement | undefined): Buffer {
  if (!masterKey || masterKey.localName !== 'masterKey') throw new Error('no <masterKey> element');
  const value = elementChildren(masterKey).find((e) => e.localName === 'value');
  const text = value ? textContent(value).trim() : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('the master key is not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== MASTER_KEY_BYTES) throw new Error(`the master key is ${bytes.length} bytes, expected ${MASTER_KEY_BYTES}`);
  return bytes;
}

function innerDescriptor(key: XmlElement): XmlElement {
  const outer = elementChildren(key).find((e) => e.localName === 'descriptor' && e.namespace === '');
  const inner = outer && elementChildren(outer)[0];
  if (!inner) throw new Error('the key has no descriptor content');
  return inner;
}

function findMasterKey(key: XmlElement): XmlElement | undefined {
  return elementChildren(innerDescriptor(key)).find((e) => e.localName === 'masterKey');
}

function findEncryptedKey(key: XmlElement): XmlElement {
  const secret = elementChildren(innerDescriptor(key)).find((e) => e.localName === 'encryptedSecret' && e.namespace === DATA_PROTECTION_NAMESPACE);
  const encryptedKey = secret && elementChildren(secret)[0];
  if (!encryptedKey || !attribute(secret, 'decryptorType')) throw new Error('the key has no <encryptedSecret> content');
  return encryptedKey;
}
