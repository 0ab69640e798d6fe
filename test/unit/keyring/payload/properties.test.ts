import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_HEADER_BYTES, readPayloadHeader } from '../../../../shared/keyring/payload/payloadHeader';
import { PayloadError } from '../../../../shared/keyring/payload/PayloadError';
import { fromPayloadText, toPayloadText } from '../../../../shared/keyring/payload/payloadText';
import { protectPayload } from '../../../../shared/keyring/payload/protectPayload';
import { purposeChain } from '../../../../shared/keyring/payload/purposeChain';
import { unprotectPayload, type RingPayloadKey } from '../../../../shared/keyring/payload/unprotectPayload';

const arbKey = fc.record({ id: fc.uuid(), masterKey: fc.uint8Array({ minLength: 64, maxLength: 64 }) });
const arbPurposes = fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 3 });
const arbPlaintext = fc.uint8Array({ maxLength: 300 });

function ringOf(...keys: RingPayloadKey[]): (id: string) => RingPayloadKey | undefined {
  return (id) => keys.find((k) => k.id === id);
}

function failure(fn: () => unknown): PayloadError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PayloadError) return err;
    throw err;
  }
  throw new Error('expected a PayloadError, nothing was thrown');
}

describe('protect / unprotect properties', () => {
  it('round-trips any plaintext under any purpose chain, naming the key in the header', () => {
    fc.assert(
      fc.property(arbKey, arbPurposes, arbPlaintext, (key, purposes, plaintext) => {
        const payload = protectPayload(key, purposes, plaintext);
        expect(readPayloadHeader(payload).keyId).toBe(key.id);
        expect(unprotectPayload(payload, purposes, ringOf({ ...key, revoked: false }))).toEqual(Buffer.from(plaintext));
      }),
    );
  });

  it('rejects any single flipped bit as payload_invalid', () => {
    fc.assert(
      fc.property(arbKey, arbPurposes, arbPlaintext, fc.nat(), fc.integer({ min: 0, max: 7 }), (key, purposes, plaintext, at, bit) => {
        const payload = protectPayload(key, purposes, plaintext);
        const index = at % payload.length;
        payload[index]! ^= 1 << bit;
        // A flip inside the key id names another key: the ring does not hold it.
        const expected = index >= 4 && index < PAYLOAD_HEADER_BYTES ? 'key_not_found' : 'payload_invalid';
        expect(failure(() => unprotectPayload(payload, purposes, ringOf({ ...key, revoked: false }))).code).toBe(expected);
      }),
    );
  });

  it('rejects other purposes, another order, or another application name (indistinguishable from tampering)', () => {
    fc.assert(
      fc.property(arbKey, arbPurposes, arbPurposes, arbPlaintext, (key, purposes, other, plaintext) => {
        fc.pre(JSON.stringify(purposes) !== JSON.stringify(other));
        const payload = protectPayload(key, purposes, plaintext);
        const err = failure(() => unprotectPayload(payload, other, ringOf({ ...key, revoked: false })));
        expect(err.code).toBe('payload_invalid');
        expect(err.message).toMatch(/wrong_purpose/);
      }),
    );
    const key = { id: randomUUID(), masterKey: randomBytes(64), revoked: false };
    const payload = protectPayload(key, purposeChain('app-a', ['Cookies']), Buffer.from('x'));
    expect(unprotectPayload(payload, ['app-a', 'Cookies'], ringOf(key)).toString()).toBe('x');
    expect(failure(() => unprotectPayload(payload, purposeChain('app-b', ['Cookies']), ringOf(key))).code).toBe('payload_invalid');
    expect(failure(() => unprotectPayload(payload, ['Cookies'], ringOf(key))).code).toBe('payload_invalid');
  });

  it('reports key_not_found for a payload of another ring, key_revoked for a revoked key, before any decryption', () => {
    fc.assert(
      fc.property(arbKey, arbKey, arbPurposes, arbPlaintext, (mine, theirs, purposes, plaintext) => {
        fc.pre(mine.id !== theirs.id);
        const payload = protectPayload(theirs, purposes, plaintext);
        const notFound = failure(() => unprotectPayload(payload, purposes, ringOf({ ...mine, revoked: false })));
        expect(notFound.code).toBe('key_not_found');
        expect(notFound.message).toContain(`{${theirs.id}}`);
        expect(failure(() => unprotectPayload(payload, purposes, ringOf({ ...theirs, revoked: true }))).code).toBe('key_revoked');
      }),
    );
  });

  it('rejects wrong magic, another version, and truncation with payload_invalid', () => {
    const key = { id: randomUUID(), masterKey: randomBytes(64), revoked: false };
    const payload = protectPayload(key, ['p'], Buffer.from('hello'));
    const badMagic = Buffer.from(payload);
    badMagic[0] = 0x0a;
    expect(failure(() => unprotectPayload(badMagic, ['p'], ringOf(key))).message).toMatch(/magic header 09 F0 C9 F0 \(found 0A F0 C9 F0\)/);
    const v1 = Buffer.from(payload);
    v1[3] = 0xf1;
    expect(failure(() => unprotectPayload(v1, ['p'], ringOf(key))).message).toMatch(/version 1/);
    for (const length of [0, 19, 20, 20 + 63, payload.length - 1]) {
      expect(failure(() => unprotectPayload(payload.subarray(0, length), ['p'], ringOf(key))).code).toBe('payload_invalid');
    }
  });

  it('round-trips the empty plaintext and 1 MiB', () => {
    const key = { id: randomUUID(), masterKey: randomBytes(64), revoked: false };
    for (const plaintext of [Buffer.alloc(0), randomBytes(1 << 20)]) {
      const payload = protectPayload(key, [], plaintext);
      expect(payload.length).toBe(20 + 16 + 16 + (Math.floor(plaintext.length / 16) + 1) * 16 + 32);
      expect(unprotectPayload(payload, [], ringOf(key)).equals(plaintext)).toBe(true);
    }
  });
});

describe('payload text (string overloads)', () => {
  it('is unpadded base64url and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toPayloadText(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromPayloadText(text)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('refuses characters outside the alphabet and impossible lengths', () => {
    expect(() => fromPayloadText('CfDJ8+/')).toThrow(PayloadError);
    expect(() => fromPayloadText('CfDJ8 AA')).toThrow(PayloadError);
    expect(() => fromPayloadText('CfDJ8')).toThrow(/base64url/);
    expect(fromPayloadText('CfDJ8A==')).toEqual(Buffer.from([0x09, 0xf0, 0xc9, 0xf0]));
  });
});
