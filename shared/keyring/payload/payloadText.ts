import { PayloadError } from './PayloadError';

/**
 * The string overloads (DataProtectionCommonExtensions.Protect(string)/Unprotect(string)): UTF-8 text in,
 * the payload as unpadded base64url (WebEncoders.Base64UrlEncode) out, and back.
 */
export function toPayloadText(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64url');
}

/** WebEncoders.Base64UrlDecode: the URL-safe alphabet, no padding needed. Node's own decoder skips bad characters, so they are refused here first. */
export function fromPayloadText(text: string): Buffer {
  const unpadded = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(unpadded) || unpadded.length % 4 === 1 || (unpadded !== text && text.length % 4 !== 0)) {
    throw new PayloadError('payload_invalid', 'the payload text is not base64url (RFC 4648 §5 alphabet A-Z a-z 0-9 - _, no padding required)');
  }
  return Buffer.from(text, 'base64url');
}
