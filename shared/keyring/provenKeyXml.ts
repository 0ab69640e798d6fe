import { randomBytes } from 'node:crypto';
import { KeyVaultError } from './protectors/keyVaultErrors';
import { CanaryFailedError } from './CanaryFailedError';
import { KeyRingDocument } from './KeyRingDocument';
import { keyXml, MASTER_KEY_BYTES, masterKeyXml, type NewKeyDates } from './KeyXmlWriter';
import { protectPayload } from './payload/protectPayload';
import { unprotectPayload } from './payload/unprotectPayload';
import type { KeyProtector } from './protectors/KeyProtector';
import { findEncryptedSecret, findMasterKey, masterKeyValue } from './readMasterKey';
import { REPOSITORY_ELEMENT } from './XmlConstants';
import { parseXml } from './xml/parseXml';

const CANARY_PURPOSES = ['ringkeeper', 'canary'];

/**
 * A new `<key>` element whose secret is proven before anyone writes it: a fresh master key protects
 * and unprotects a canary payload, is wrapped by the ring's protector, read back from the written
 * form exactly as readers will find it (decrypted again through the protector), and must come back
 * byte-equal, with the canary unprotecting under the key read back. Any failure throws
 * CanaryFailedError, so the caller writes nothing.
 */
export async function provenKeyXml(ring: string, protector: KeyProtector, id: string, dates: NewKeyDates): Promise<string> {
  const secret = randomBytes(MASTER_KEY_BYTES);
  const plaintextXml = masterKeyXml(secret);
  const fail = (reason: string): never => {
    throw new CanaryFailedError(ring, id, reason);
  };
  let unwrapped: Buffer | undefined;
  try {
    const canary = randomBytes(32);
    const payload = protectPayload({ id, masterKey: secret }, CANARY_PURPOSES, canary);

    // A wrap that fails outright keeps its own error (e.g. Key Vault unavailable): nothing was written either way.
    const xml = keyXml(id, dates, await protector.protect(plaintextXml));
    const [key] = KeyRingDocument.parse(Buffer.from(`<${REPOSITORY_ELEMENT}>${xml}</${REPOSITORY_ELEMENT}>`, 'utf8')).ring.keys;
    if (!key || key.id !== id) return fail('the written form does not read back as the key');
    if (key.protection !== protector.type) return fail(`the written form reads back as ${key.protection}-protected, not ${protector.type}`);

    if (protector.type === 'none') {
      unwrapped = masterKeyValue(findMasterKey(key.element));
    } else {
      let decrypted: string;
      try {
        decrypted = await protector.unprotect(findEncryptedSecret(key.element));
      } catch (err) {
        // A transient Key Vault failure proves nothing either way: it stays retryable, not critical.
        if (err instanceof KeyVaultError && err.retryable) throw err;
        return fail(`the ${protector.type} protector could not unwrap what it wrapped: ${messageOf(err)}`);
      }
      if (decrypted !== plaintextXml) return fail(`unwrapping with the ${protector.type} protector did not give back the wrapped master key`);
      unwrapped = masterKeyValue(parseXml(decrypted).root);
    }
    if (!unwrapped.equals(secret)) return fail('the master key read back differs from the one generated');

    let back: Buffer;
    try {
      back = unprotectPayload(payload, CANARY_PURPOSES, (keyId) => (keyId === id ? { id, masterKey: unwrapped!, revoked: false } : undefined));
    } catch (err) {
      return fail(`a canary payload protected with the new key does not unprotect with the key read back: ${messageOf(err)}`);
    }
    if (!back.equals(canary)) return fail('the canary payload came back altered');
    return xml;
  } finally {
    secret.fill(0);
    unwrapped?.fill(0);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
