import { additionalAuthenticatedData } from './additionalAuthenticatedData';
import { ManagedAuthenticatedEncryptor } from './ManagedAuthenticatedEncryptor';
import { PAYLOAD_HEADER_BYTES, readPayloadHeader } from './payloadHeader';
import { PayloadError } from './PayloadError';
import type { PayloadKey } from './protectPayload';

/** A key of the ring as Unprotect sees it: present (master key unwrapped) and revoked or not. */
export interface RingPayloadKey extends PayloadKey {
  revoked: boolean;
}

/**
 * IDataProtector.Unprotect(byte[]): reads the header, finds the key it names through `findKey`
 * (undefined: not in the ring), refuses revoked keys, then authenticates and decrypts under the
 * purposes. Expired and not-yet-active keys still unprotect, as in ASP.NET Core.
 * Throws PayloadError with a stable code.
 */
export function unprotectPayload(payload: Uint8Array, purposes: readonly string[], findKey: (keyId: string) => RingPayloadKey | undefined): Buffer {
  const { keyId } = readPayloadHeader(payload);
  const key = findKey(keyId);
  if (!key) throw PayloadError.keyNotFound(keyId);
  if (key.revoked) throw PayloadError.keyRevoked(keyId);
  const aad = additionalAuthenticatedData(keyId, purposes);
  return new ManagedAuthenticatedEncryptor(key.masterKey).decrypt(payload.subarray(PAYLOAD_HEADER_BYTES), aad);
}
