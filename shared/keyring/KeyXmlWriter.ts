import { randomBytes } from 'node:crypto';
import { formatDotnetDate } from './dotnetDate';
import { DATA_PROTECTION_NAMESPACE, DESCRIPTOR_DESERIALIZER_TYPE, UNENCRYPTED_KEY_COMMENT } from './XmlConstants';
import { escapeAttribute, escapeText } from './xml/escapeXml';

/** KDK_SIZE_IN_BYTES = 512 / 8: the master key of an AES_256_CBC + HMACSHA256 descriptor. */
export const MASTER_KEY_BYTES = 64;

export interface NewKeyDates {
  creationDate: number;
  activationDate: number;
  expirationDate: number;
}

/**
 * The `<masterKey>` element as AuthenticatedEncryptorDescriptor.ExportToXml writes it, marked
 * requiresEncryption. Its base64 is the secret: callers encrypt it before it reaches storage.
 */
export function masterKeyXml(secret: Buffer = randomBytes(MASTER_KEY_BYTES)): string {
  return `<masterKey p4:requiresEncryption="true" xmlns:p4="${DATA_PROTECTION_NAMESPACE}">` + `<!--${UNENCRYPTED_KEY_COMMENT}--><value>${secret.toString('base64')}</value></masterKey>`;
}

/** `<encryptedSecret>` as XmlEncryptionExtensions.EncryptIfNecessary writes it around an encryptor's output. */
export function encryptedSecretXml(decryptorType: string, encryptedXml: string): string {
  // An encryptor element without its own default namespace must not inherit the DP namespace.
  const content = /^<[A-Za-z]+(\s[^>]*)?\sxmlns="/.test(encryptedXml) ? encryptedXml : encryptedXml.replace(/^<([A-Za-z]+)/, '<$1 xmlns=""');
  return `<encryptedSecret decryptorType="${escapeAttribute(decryptorType)}" xmlns="${DATA_PROTECTION_NAMESPACE}">${content}</encryptedSecret>`;
}

/** A `<key>` exactly as XmlKeyManager.CreateNewKey builds it; `secretXml` is the (encrypted) master key. */
export function keyXml(id: string, dates: NewKeyDates, secretXml: string): string {
  return (
    `<key id="${id}" version="1">` +
    `<creationDate>${formatDotnetDate(dates.creationDate)}</creationDate>` +
    `<activationDate>${formatDotnetDate(dates.activationDate)}</activationDate>` +
    `<expirationDate>${formatDotnetDate(dates.expirationDate)}</expirationDate>` +
    `<descriptor deserializerType="${escapeAttribute(DESCRIPTOR_DESERIALIZER_TYPE)}">` +
    `<descriptor><encryption algorithm="AES_256_CBC" /><validation algorithm="HMACSHA256" />${secretXml}</descriptor>` +
    `</descriptor></key>`
  );
}

/** `<revocation>` of one key, or of every key created before the date when keyId is '*'. */
export function revocationXml(keyId: string, revocationDate: number, reason: string | undefined): string {
  const comment = keyId === '*' ? '<!-- All keys created before the revocation date are revoked. -->' : '';
  const reasonXml = reason ? `<reason>${escapeText(reason)}</reason>` : '<reason />';
  return `<revocation version="1"><revocationDate>${formatDotnetDate(revocationDate)}</revocationDate>${comment}<key id="${keyId}" />${reasonXml}</revocation>`;
}
