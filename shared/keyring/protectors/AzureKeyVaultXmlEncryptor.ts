import { createCipheriv, createDecipheriv, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { KeyRingFormatError } from '../KeyRingFormatError';
import { KEY_VAULT_DECRYPTOR_TYPE, KEY_VAULT_ENCRYPTED_KEY_COMMENT, XML_DECLARATION } from '../XmlConstants';
import { escapeText } from '../xml/escapeXml';
import { elementChildren, textContent, type XmlElement } from '../xml/XmlNode';
import type { KeyWrapper } from './KeyWrapper';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Aes.Create() defaults: the key and IV are BlockSize/8 bytes, so AES-128-CBC with PKCS#7. */
const AES_BLOCK_BYTES = 16;

export interface EncryptedXml {
  /** The `<encryptedKey>` element, serialised without formatting. */
  encryptedKeyXml: string;
  decryptorType: string;
}

/**
 * The AzureKeyVaultXmlEncryptor format: the plaintext element is saved as .NET's
 * XElement.Save(stream) does (UTF-8 BOM + declaration + element), AES-CBC encrypted under a random
 * content key, and the content key is wrapped with RSA-OAEP by the KeyWrapper.
 */
export async function encryptXmlElement(plaintextElementXml: string, wrapper: KeyWrapper, randomBytes: (size: number) => Buffer = cryptoRandomBytes): Promise<EncryptedXml> {
  const plaintext = Buffer.concat([UTF8_BOM, Buffer.from(XML_DECLARATION + plaintextElementXml, 'utf8')]);
  const contentKey = randomBytes(AES_BLOCK_BYTES);
  const iv = randomBytes(AES_BLOCK_BYTES);
  const cipher = createCipheriv('aes-128-cbc', contentKey, iv);
  const value = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const { kid, wrapped } = await wrapper.wrap(contentKey);
  contentKey.fill(0);
  const encryptedKeyXml =
    `<encryptedKey><!--${KEY_VAULT_ENCRYPTED_KEY_COMMENT}--><kid>${escapeText(kid)}</kid>` +
    `<key>${wrapped.toString('base64')}</key><iv>${iv.toString('base64')}</iv><value>${value.toString('base64')}</value></encryptedKey>`;
  return { encryptedKeyXml, decryptorType: KEY_VAULT_DECRYPTOR_TYPE };
}

/** Reads kid, key, iv and value by element name, as AzureKeyVaultXmlDecryptor does. */
export function readEncryptedKey(encryptedKey: XmlElement): { kid: string; wrapped: Buffer; iv: Buffer; value: Buffer } {
  const part = (name: string): string => {
    const element = elementChildren(encryptedKey).find((e) => e.localName === name);
    if (!element) throw new KeyRingFormatError('<encryptedKey>', `has no <${name}>`);
    return textContent(element).trim();
  };
  return {
    kid: part('kid'),
    wrapped: Buffer.from(part('key'), 'base64'),
    iv: Buffer.from(part('iv'), 'base64'),
    value: Buffer.from(part('value'), 'base64'),
  };
}

/** Decrypts an `<encryptedKey>` to the plaintext element's XML text (BOM and declaration removed). */
export async function decryptXmlElement(encryptedKey: XmlElement, unwrap: (kid: string, wrapped: Buffer) => Promise<Buffer>): Promise<string> {
  const { kid, wrapped, iv, value } = readEncryptedKey(encryptedKey);
  const contentKey = await unwrap(kid, wrapped);
  try {
    // The unwrapped key's length selects the AES variant, as Aes.CreateDecryptor does.
    const decipher = createDecipheriv(`aes-${contentKey.length * 8}-cbc`, contentKey, iv);
    let text = Buffer.concat([decipher.update(value), decipher.final()]).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.replace(/^<\?xml[^?]*\?>/, '');
  } finally {
    contentKey.fill(0);
  }
}
