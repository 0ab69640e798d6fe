import type { KeyEntry } from '../KeyRing';

/**
 * The key encryption key a `<kid>` names, without its Key Vault version: rotating a Key Vault key
 * to a new version keeps the KEK, pointing at another key or vault changes it. Key Vault names are
 * case-insensitive; local RSA kids are fingerprints and compared as they are.
 */
export function kekOf(kid: string): string {
  const m = /^(https:\/\/[^/]+\/keys\/[^/]+)(\/[^/]*)?$/i.exec(kid.trim());
  return m ? m[1]!.toLowerCase() : kid.trim();
}

/**
 * The KEK the ring's readers use today: that of the most recently created unexpired key that is
 * encrypted. Undefined when no such key exists (a new ring, or only unencrypted keys).
 */
export function ringKek(keys: readonly KeyEntry[], now: number): { kek: string; keyId: string } | undefined {
  const encrypted = keys
    .filter((k) => k.expirationDate > now && (k.protection === 'keyvault' || k.protection === 'rsa' || k.protection === 'certificate' || k.protection === 'dpapi'))
    .sort((a, b) => b.creationDate - a.creationDate)[0];
  if (!encrypted) return undefined;
  return { kek: encrypted.kid ? kekOf(encrypted.kid) : `(${encrypted.protection})`, keyId: encrypted.id };
}

/** Refusal to write a key its ring's readers may not be able to unwrap. */
export class KekMismatchError extends Error {
  readonly code = 'kek_mismatch';
  constructor(ring: string, configured: string, existing: { kek: string; keyId: string }) {
    super(
      `ring ${ring}: refusing to write: the configured key encryption key ${configured} is not the one the ring's newest key {${existing.keyId}} is wrapped by (${existing.kek}); ` +
        "apps configured for the ring's key could not unwrap the new key. Check that this is the right ring and key " +
        '(another checkout\'s Azurite?); to change the key encryption key on purpose, pass --allow-new-kek (HTTP: "allowNewKek": true).',
    );
    this.name = 'KekMismatchError';
  }
}
