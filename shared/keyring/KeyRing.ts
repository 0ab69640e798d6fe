import type { XmlElement } from './xml/XmlNode';

/** How a key's master key is stored at rest, read from its descriptor. */
export type KeyProtection = 'keyvault' | 'rsa' | 'certificate' | 'dpapi' | 'none' | 'unknown';

/** A `<key>` element as XmlKeyManager reads it. Dates are epoch milliseconds. */
export interface KeyEntry {
  id: string;
  creationDate: number;
  activationDate: number;
  expirationDate: number;
  protection: KeyProtection;
  /** `<kid>` of a Key Vault-format encrypted secret, when there is one (never key material). */
  kid?: string;
  /** SHA-1 thumbprint of the certificate a certificate-protected secret is encrypted to. */
  certificateThumbprint?: string;
  element: XmlElement;
}

/**
 * A `<revocation>`; keyId '*' revokes every key created strictly before revocationDate. XmlKeyManager
 * reads the date of mass revocations only, so a single-key revocation may lack a readable one.
 */
export interface RevocationEntry {
  keyId: string;
  revocationDate?: number;
  reason: string;
  element: XmlElement;
}

export interface KeyRing {
  keys: KeyEntry[];
  revocations: RevocationEntry[];
}

/** A `<key>` XmlKeyManager would log and skip (its id or a date does not parse): kept verbatim, never used. */
export interface UnreadableKey {
  element: XmlElement;
  /** Names the element and what is wrong. */
  problem: string;
}

export const REVOKE_ALL = '*';

/** Only the most recent mass revocation counts, as in XmlKeyManager. */
export function mostRecentMassRevocation(ring: KeyRing): number | undefined {
  let latest: number | undefined;
  for (const r of ring.revocations) {
    if (r.keyId === REVOKE_ALL && r.revocationDate !== undefined && (latest === undefined || r.revocationDate > latest)) latest = r.revocationDate;
  }
  return latest;
}

export function isRevoked(ring: KeyRing, key: Pick<KeyEntry, 'id' | 'creationDate'>): boolean {
  return revocationTest(ring)(key);
}

/** isRevoked for many keys: the revocations are indexed once. */
export function revocationTest(ring: KeyRing): (key: Pick<KeyEntry, 'id' | 'creationDate'>) => boolean {
  const mass = mostRecentMassRevocation(ring);
  const revokedIds = new Set(ring.revocations.map((r) => r.keyId));
  return (key) => revokedIds.has(key.id) || (mass !== undefined && key.creationDate < mass);
}
