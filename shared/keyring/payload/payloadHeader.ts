import { guidFromDotnetBytes, guidToDotnetBytes } from './dotnetGuidBytes';
import { PayloadError } from './PayloadError';

/**
 * KeyRingBasedDataProtector's magic header: the high 28 bits of a SHA1 hash, the low nibble the
 * format version (0). "F0 C9" never occurs in well-formed UTF-8, so a payload is never mistaken for text.
 */
export const MAGIC_HEADER_V0 = 0x09f0c9f0;
/** Magic header (4) + key id (16). */
export const PAYLOAD_HEADER_BYTES = 20;

export interface PayloadHeader {
  /** The id of the key that protected the payload, lowercase "D" format. */
  keyId: string;
}

/** `BE32(magic) || keyId in .NET byte order`. */
export function writePayloadHeader(keyId: string): Buffer {
  const header = Buffer.alloc(PAYLOAD_HEADER_BYTES);
  header.writeUInt32BE(MAGIC_HEADER_V0, 0);
  guidToDotnetBytes(keyId).copy(header, 4);
  return header;
}

/** Reads the header as UnprotectCore does, with its checks: length, magic header, version. No key material involved. */
export function readPayloadHeader(payload: Uint8Array): PayloadHeader {
  if (payload.length < PAYLOAD_HEADER_BYTES) {
    throw new PayloadError('payload_invalid', `the payload is ${payload.length} bytes: too short for the ${PAYLOAD_HEADER_BYTES}-byte header (magic header and key id)`);
  }
  const magic = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readUInt32BE(0);
  if ((magic & ~0xf) >>> 0 !== MAGIC_HEADER_V0) {
    throw new PayloadError(
      'payload_invalid',
      `the payload does not start with the Data Protection magic header 09 F0 C9 F0 (found ${hex32(magic)}): it was not protected by an ASP.NET Core key ring protector`,
    );
  }
  if ((magic & 0xf) !== 0) throw new PayloadError('payload_invalid', `the payload has format version ${magic & 0xf}; only version 0 exists`);
  return { keyId: guidFromDotnetBytes(payload.subarray(4, PAYLOAD_HEADER_BYTES)) };
}

function hex32(value: number): string {
  return value
    .toString(16)
    .padStart(8, '0')
    .replace(/(..)(?!$)/g, '$1 ')
    .toUpperCase();
}
