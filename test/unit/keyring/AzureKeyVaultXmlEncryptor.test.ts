import { describe, expect, it } from 'vitest';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { decryptXmlElement, encryptXmlElement } from '../../../shared/keyring/protectors/AzureKeyVaultXmlEncryptor';
import { RsaKeyWrapper } from '../../../shared/keyring/protectors/RsaKeyWrapper';
import type { KeyWrapper } from '../../../shared/keyring/protectors/KeyWrapper';
import { parseXml } from '../../../shared/keyring/xml/parseXml';
import { elementChildren, textContent } from '../../../shared/keyring/xml/XmlNode';

/** AzureKeyVaultXmlEncryptorTests: the RNG fills each buffer with 0, 1, 2, …; the wrap reverses the bytes. */
const sequentialRandom = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => i));
const reversingWrapper: KeyWrapper = {
  wrap: async (key) => ({ kid: 'KeyId', wrapped: Buffer.from(key).reverse() }),
  unwrap: async (_kid, wrapped) => Buffer.from(wrapped).reverse(),
};

function parts(encryptedKeyXml: string): Record<string, string> {
  const root = parseXml(encryptedKeyXml).root;
  return Object.fromEntries(elementChildren(root).map((e) => [e.localName, textContent(e)]));
}

describe('AzureKeyVaultXmlEncryptor format', () => {
  it('reproduces the published known-answer test', async () => {
    const { encryptedKeyXml, decryptorType } = await encryptXmlElement('<Element />', reversingWrapper, sequentialRandom);
    expect(parts(encryptedKeyXml)).toEqual({
      kid: 'KeyId',
      key: 'Dw4NDAsKCQgHBgUEAwIBAA==',
      iv: 'AAECAwQFBgcICQoLDA0ODw==',
      value: 'VfLYL2prdymawfucH3Goso0zkPbQ4/GKqUsj2TRtLzsBPz7p7cL1SQaY6I29xSlsPQf6IjxHSz4sDJ427GvlLQ==',
    });
    expect(decryptorType).toMatch(/^Azure\.Extensions\.AspNetCore\.DataProtection\.Keys\.AzureKeyVaultXmlDecryptor, Azure\.Extensions\.AspNetCore\.DataProtection\.Keys, /);
    expect(encryptedKeyXml).toContain('<!-- This key is encrypted with Azure Key Vault. -->');
  });

  it('decrypts the known answer back to the element', async () => {
    const { encryptedKeyXml } = await encryptXmlElement('<Element />', reversingWrapper, sequentialRandom);
    expect(await decryptXmlElement(parseXml(encryptedKeyXml).root, (kid, wrapped) => reversingWrapper.unwrap(kid, wrapped))).toBe('<Element />');
  });

  it('wraps with RSA-OAEP (SHA-1) under a local RSA key and unwraps with the same key only', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = new RsaKeyWrapper(privateKey);
    const { encryptedKeyXml } = await encryptXmlElement('<masterKey><value>AAAA</value></masterKey>', rsa);
    const { kid, key } = parts(encryptedKeyXml);
    expect(kid).toBe(rsa.kid);
    expect(kid).toMatch(/^urn:ringkeeper:rsa:sha256:[A-Za-z0-9_-]{43}$/);
    // Independent check: the wrapped content key opens with plain OAEP-SHA1, as Key Vault's RSA-OAEP would.
    const contentKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(key!, 'base64'));
    expect(contentKey).toHaveLength(16);
    expect(await decryptXmlElement(parseXml(encryptedKeyXml).root, (k, w) => rsa.unwrap(k, w))).toBe('<masterKey><value>AAAA</value></masterKey>');
    const other = new RsaKeyWrapper(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    await expect(decryptXmlElement(parseXml(encryptedKeyXml).root, (k, w) => other.unwrap(k, w))).rejects.toThrow(/not by the configured RSA key/);
  });
});
