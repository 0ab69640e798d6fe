import { guidToDotnetBytes } from './dotnetGuidBytes';
import { MAGIC_HEADER_V0 } from './payloadHeader';

/**
 * The AAD KeyRingBasedDataProtector authenticates (AdditionalAuthenticatedDataTemplate):
 * BE32(magic) || keyId (.NET byte order) || BE32(purpose count) || each purpose as BinaryWriter.Write(string)
 * writes it: its UTF-8 byte length 7-bit encoded (LEB128), then the bytes.
 */
const LONE_SURROGATE = /\p{Cs}/u;

export function additionalAuthenticatedData(keyId: string, purposes: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4), guidToDotnetBytes(keyId), Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(MAGIC_HEADER_V0);
  parts[2]!.writeUInt32BE(purposes.length);
  for (const [i, purpose] of purposes.entries()) {
    // .NET's UTF-8 encoder here throws on lone surrogates; Node would silently write U+FFFD instead.
    if (LONE_SURROGATE.test(purpose)) throw new TypeError(`purpose ${i + 1} is not well-formed UTF-16 (lone surrogate)`);
    const bytes = Buffer.from(purpose, 'utf8');
    parts.push(sevenBitEncoded(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

function sevenBitEncoded(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
