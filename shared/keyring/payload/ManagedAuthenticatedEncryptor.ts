import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { PayloadError } from './PayloadError';
import { sp800108CtrHmacSha512 } from './sp800108CtrHmacSha512';

/** 128 bits of entropy fed to the KDF per operation, so CBC IV collisions under one key do not matter. */
export const KEY_MODIFIER_BYTES = 16;
const BLOCK_BYTES = 16;
const AES_KEY_BYTES = 32;
const MAC_BYTES = 32;
const MAC_KEY_BYTES = MAC_BYTES;
/** key modifier + IV + MAC: the least a payload body can be (ManagedAuthenticatedEncryptor's check). */
export const MINIMUM_BODY_BYTES = KEY_MODIFIER_BYTES + BLOCK_BYTES + MAC_BYTES;

/** Fills a buffer with random bytes; tests inject a sequential source to reproduce published vectors. */
export type RandomSource = (buffer: Buffer) => void;
const systemRandom: RandomSource = (buffer) => randomFillSync(buffer);

/**
 * The context header that binds subkeys to the algorithm choice (CreateContextHeader):
 * 00 00 || BE32(AES key bytes) || BE32(block bytes) || BE32(MAC key bytes) || BE32(MAC bytes) || E || M,
 * where E encrypts the empty input under a zero IV and M is the HMAC of the empty input, both keyed
 * from KDF(kdk = ∅, label = ∅, context = ∅).
 */
export const CONTEXT_HEADER: Buffer = (() => {
  const empty = Buffer.alloc(0);
  const keys = sp800108CtrHmacSha512(empty, empty, empty, AES_KEY_BYTES + MAC_KEY_BYTES);
  const sizes = Buffer.alloc(2 + 16);
  sizes.writeUInt32BE(AES_KEY_BYTES, 2);
  sizes.writeUInt32BE(BLOCK_BYTES, 6);
  sizes.writeUInt32BE(MAC_KEY_BYTES, 10);
  sizes.writeUInt32BE(MAC_BYTES, 14);
  const e = aesCbc('encrypt', keys.subarray(0, AES_KEY_BYTES), Buffer.alloc(BLOCK_BYTES), empty);
  const m = createHmac('sha256', keys.subarray(AES_KEY_BYTES)).digest();
  return Buffer.concat([sizes, e, m]);
})();

/**
 * ASP.NET Core's default authenticated encryption (AES_256_CBC + HMACSHA256, ManagedAuthenticatedEncryptor;
 * the CNG CbcAuthenticatedEncryptor writes the same bytes):
 * body = keyModifier(16) || IV(16) || AES-256-CBC-PKCS7(plaintext) || HMACSHA256(IV || ciphertext),
 * the AES and HMAC subkeys derived per operation from the master key with label = AAD and
 * context = CONTEXT_HEADER || keyModifier.
 */
export class ManagedAuthenticatedEncryptor {
  private readonly kdk: Buffer;

  /** `masterKey` is the key derivation key: the 64 bytes of the descriptor's `<masterKey>`. */
  constructor(
    masterKey: Uint8Array,
    private readonly random: RandomSource = systemRandom,
  ) {
    this.kdk = Buffer.from(masterKey);
  }

  encrypt(plaintext: Uint8Array, additionalAuthenticatedData: Uint8Array): Buffer {
    // Key modifier then IV, drawn in that order as ASP.NET Core does (one call: half the cost).
    const keyModifierAndIv = Buffer.alloc(KEY_MODIFIER_BYTES + BLOCK_BYTES);
    this.random(keyModifierAndIv);
    const keyModifier = keyModifierAndIv.subarray(0, KEY_MODIFIER_BYTES);
    const iv = keyModifierAndIv.subarray(KEY_MODIFIER_BYTES);
    const { aesKey, macKey } = this.subkeys(additionalAuthenticatedData, keyModifier);
    const ciphertext = aesCbc('encrypt', aesKey, iv, plaintext);
    const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest();
    return Buffer.concat([keyModifierAndIv, ciphertext, mac]);
  }

  /** Throws PayloadError `payload_invalid` for a body that is too short, fails authentication or does not decrypt. */
  decrypt(body: Uint8Array, additionalAuthenticatedData: Uint8Array): Buffer {
    if (body.length < MINIMUM_BODY_BYTES) throw new PayloadError('payload_invalid', `the payload is truncated: its body is ${body.length} bytes, at least ${MINIMUM_BODY_BYTES} are needed`);
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const keyModifier = bytes.subarray(0, KEY_MODIFIER_BYTES);
    const macOffset = bytes.length - MAC_BYTES;
    const ivAndCiphertext = bytes.subarray(KEY_MODIFIER_BYTES, macOffset);
    const { aesKey, macKey } = this.subkeys(additionalAuthenticatedData, keyModifier);
    const expected = createHmac('sha256', macKey).update(ivAndCiphertext).digest();
    if (!timingSafeEqual(expected, bytes.subarray(macOffset))) {
      throw new PayloadError(
        'payload_invalid',
        'the payload does not authenticate: it was protected with other purposes or another application name (wrong_purpose), or it was altered; ASP.NET Core cannot tell these apart',
      );
    }
    try {
      return aesCbc('decrypt', aesKey, ivAndCiphertext.subarray(0, BLOCK_BYTES), ivAndCiphertext.subarray(BLOCK_BYTES));
    } catch {
      // Only reachable with the right keys, i.e. a payload produced by a broken encryptor.
      throw new PayloadError('payload_invalid', 'the payload authenticates but its ciphertext does not decrypt (bad length or padding)');
    }
  }

  private subkeys(additionalAuthenticatedData: Uint8Array, keyModifier: Buffer): { aesKey: Buffer; macKey: Buffer } {
    const keys = sp800108CtrHmacSha512(this.kdk, additionalAuthenticatedData, Buffer.concat([CONTEXT_HEADER, keyModifier]), AES_KEY_BYTES + MAC_KEY_BYTES);
    return { aesKey: keys.subarray(0, AES_KEY_BYTES), macKey: keys.subarray(AES_KEY_BYTES) };
  }
}

function aesCbc(direction: 'encrypt' | 'decrypt', key: Buffer, iv: Uint8Array, input: Uint8Array): Buffer {
  const cipher = direction === 'encrypt' ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(input), cipher.final()]);
}
