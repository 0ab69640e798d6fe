import { additionalAuthenticatedData } from './additionalAuthenticatedData';
import { ManagedAuthenticatedEncryptor, type RandomSource } from './ManagedAuthenticatedEncryptor';
import { writePayloadHeader } from './payloadHeader';

/** A key as the payload format needs it: its id and its unwrapped 64-byte master key. */
export interface PayloadKey {
  id: string;
  masterKey: Uint8Array;
}

/**
 * IDataProtector.Protect(byte[]) of a protector with these purposes whose ring's default key is `key`:
 * magic header || key id || the authenticated encryptor's body over the AAD of key id and purposes.
 * For an app with an application name, pass `purposeChain(applicationName, purposes)`.
 */
export function protectPayload(key: PayloadKey, purposes: readonly string[], plaintext: Uint8Array, random?: RandomSource): Buffer {
  const aad = additionalAuthenticatedData(key.id, purposes);
  const body = new ManagedAuthenticatedEncryptor(key.masterKey, random).encrypt(plaintext, aad);
  return Buffer.concat([writePayloadHeader(key.id), body]);
}
