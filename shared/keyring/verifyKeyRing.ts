import type { RingHandle } from '../app/openRings';
import type { KeyEntry, KeyProtection } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { MASTER_KEY_BYTES } from './KeyXmlWriter';
import { DATA_PROTECTION_NAMESPACE } from './XmlConstants';
import { decryptXmlElement } from './protectors/AzureKeyVaultXmlEncryptor';
import { parseXml } from './xml/parseXml';
import { attribute, elementChildren, textContent, type XmlElement } from './xml/XmlNode';

export interface KeyVerification {
  id: string;
  protection: KeyProtection;
  status: 'ok' | 'failed' | 'skipped';
  detail?: string;
}

export interface RingVerification {
  ring: string;
  etag: string | null;
  ok: boolean;
  keys: KeyVerification[];
}

/**
 * Unwraps every key (Key Vault or locally) and checks its master key; reports without revealing it.
 * `only` limits the check to some keys (health checks the keys apps use, not the whole history).
 */
export async function verifyKeyRing(handle: RingHandle, only?: ReadonlySet<string>): Promise<RingVerification> {
  const stored = await handle.repository.read();
  const document = KeyRingDocument.parse(stored.content);
  const keys: KeyVerification[] = [];
  for (const key of document.ring.keys) if (!only || only.has(key.id)) keys.push(await verifyKey(handle, key));
  return { ring: handle.name, etag: stored.etag ?? null, ok: keys.every((k) => k.status !== 'failed'), keys };
}

async function verifyKey(handle: RingHandle, key: KeyEntry): Promise<KeyVerification> {
  const base = { id: key.id, protection: key.protection };
  try {
    switch (key.protection) {
      case 'none':
        return { ...base, ...checkMasterKey(findMasterKey(key.element)) };
      case 'keyvault':
      case 'rsa': {
        const encryptedKey = findEncryptedKey(key.element);
        const plaintext = await decryptXmlElement(encryptedKey, (kid, wrapped) => handle.protector().unwrap(kid, wrapped));
        return { ...base, ...checkMasterKey(parseXml(plaintext).root) };
      }
      default:
        return { ...base, status: 'skipped', detail: `ringkeeper cannot unwrap ${key.protection}-protected keys` };
    }
  } catch (err) {
    return { ...base, status: 'failed', detail: (err as Error).message };
  }
}

function checkMasterKey(masterKey: XmlElement | undefined): Pick<KeyVerification, 'status' | 'detail'> {
  if (!masterKey || masterKey.localName !== 'masterKey') return { status: 'failed', detail: 'no <masterKey> element' };
  const value = elementChildren(masterKey).find((e) => e.localName === 'value');
  const text = value ? textContent(value).trim() : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return { status: 'failed', detail: 'the master key is not base64' };
  const length = Buffer.from(text, 'base64').length;
  return length === MASTER_KEY_BYTES ? { status: 'ok' } : { status: 'failed', detail: `the master key is ${length} bytes, expected ${MASTER_KEY_BYTES}` };
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
