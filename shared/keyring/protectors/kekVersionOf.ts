import type { KeyEntry } from '../KeyRing';

const CERTIFICATE_PREFIX = 'certificate:';

/** A certificate as a key-encryption key, in the same namespace as kids: `certificate:{SHA-1 thumbprint}`. */
export function certificateKek(thumbprint: string): string {
  return CERTIFICATE_PREFIX + thumbprint;
}

/**
 * Which key-encryption key *version* protects a key's master key: its versioned kid, or its
 * certificate; undefined when unencrypted or unknown. Finer than a KEK's identity: a new Key Vault
 * key version is the same KEK but another version, and makes the key stale until re-wrapped.
 */
export function kekVersionOf(key: Pick<KeyEntry, 'kid' | 'certificateThumbprint'>): string | undefined {
  return key.kid ?? (key.certificateThumbprint ? certificateKek(key.certificateThumbprint) : undefined);
}
