/**
 * Why a payload cannot be unprotected, with ASP.NET Core's meanings:
 * - `key_not_found`: the payload names a key the ring does not hold ("The key {…} was not found in the key ring").
 * - `key_revoked`: the key is in the ring but revoked ("The key {…} has been revoked").
 * - `payload_invalid`: not a payload of this format (magic header, version, length, encoding) or its
 *   authentication tag does not match. A payload protected under other purposes (or another application
 *   name) fails the same tag check as a tampered one: ASP.NET Core cannot tell a wrong purpose from
 *   tampering, and neither can anyone else, so the message names both (`wrong_purpose`).
 */
export type PayloadErrorCode = 'key_not_found' | 'key_revoked' | 'payload_invalid';

export class PayloadError extends Error {
  constructor(
    readonly code: PayloadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }

  /** Error.Common_KeyNotFound. */
  static keyNotFound(keyId: string): PayloadError {
    return new PayloadError('key_not_found', `the key {${keyId}} was not found in the key ring`);
  }

  /** Error.Common_KeyRevoked. */
  static keyRevoked(keyId: string): PayloadError {
    return new PayloadError('key_revoked', `the key {${keyId}} has been revoked`);
  }
}
