import type { KeyEntry } from '../KeyRing';

const CERTIFICATE_PREFIX = 'certificate:';

/** A certificate as a key-encryption key, in the same namespace as kids: `certificate:{SHA-1 thumbprint}`. */
export function certificateKek(thumbprint: string): string {
  return CERTIFICATE_PREFIX + thumbprint;
}

/** Which key-encryption key protects a key's master key: its kid or its certificate; undefined when unencrypted or unknown. */
export function kekOf(key: Pick<KeyEntry, 'kid' | 'certificateThumbprint'>): string | undefined {
  return key.kid ?? (key.certificateThumbprint ? certificateKek(key.certificateThumbprint) : undefined);
}
