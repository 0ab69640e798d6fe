import { normalizeGuid } from '../guid';

/**
 * Guid.ToByteArray(): Data1 (4 bytes), Data2 and Data3 (2 bytes each) little-endian, the last 8 bytes
 * as written. `3d6d01fd-c0e7-44ae-82dd-013b996b4093` → fd 01 6d 3d e7 c0 ae 44 82 dd 01 3b 99 6b 40 93.
 */
export function guidToDotnetBytes(id: string): Buffer {
  const d = normalizeGuid(id);
  if (!d) throw new TypeError(`"${id}" is not a GUID`);
  const hex = d.replace(/-/g, '');
  const bytes = Buffer.from(hex, 'hex');
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

/** new Guid(bytes) for 16 bytes in .NET order, as a lowercase "D" string. */
export function guidFromDotnetBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a GUID is 16 bytes, not ${bytes.length}`);
  const b = Buffer.from(bytes);
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
