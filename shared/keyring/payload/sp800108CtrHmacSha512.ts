import { createHmac } from 'node:crypto';

const PRF_OUTPUT_BYTES = 64;

/**
 * NIST SP800-108 KDF in counter mode with HMACSHA512 as the PRF, as ManagedSP800_108_CTR_HMACSHA512:
 * block i = HMACSHA512(kdk, BE32(i) || label || 0x00 || context || BE32(outputBytes * 8)), i = 1, 2, …;
 * the blocks concatenated and cut to `outputBytes`.
 */
export function sp800108CtrHmacSha512(kdk: Uint8Array, label: Uint8Array, context: Uint8Array, outputBytes: number): Buffer {
  if (!Number.isInteger(outputBytes) || outputBytes < 0 || outputBytes > 0x1fffffff) throw new RangeError(`cannot derive ${outputBytes} bytes`);
  const counter = Buffer.alloc(4);
  const separator = Buffer.from([0]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(outputBytes * 8);
  const output = Buffer.alloc(outputBytes);
  for (let i = 1, offset = 0; offset < outputBytes; i++, offset += PRF_OUTPUT_BYTES) {
    counter.writeUInt32BE(i);
    const block = createHmac('sha512', kdk).update(counter).update(label).update(separator).update(context).update(length).digest();
    block.copy(output, offset, 0, Math.min(PRF_OUTPUT_BYTES, outputBytes - offset));
  }
  return output;
}
