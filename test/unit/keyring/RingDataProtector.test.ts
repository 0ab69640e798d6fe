import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { keyXml, masterKeyXml, revocationXml } from '../../../shared/keyring/KeyXmlWriter';
import { PayloadError } from '../../../shared/keyring/payload/PayloadError';
import { protectPayload } from '../../../shared/keyring/payload/protectPayload';
import { readPayloadHeader } from '../../../shared/keyring/payload/payloadHeader';
import { NoProtectionKeyError, RingDataProtector, type PayloadRingSource } from '../../../shared/keyring/RingDataProtector';

const NOW = Date.UTC(2030, 5, 1);
const OLD = '11111111-1111-4111-8111-111111111111';
const CURRENT = '22222222-2222-4222-8222-222222222222';
const REVOKED = '33333333-3333-4333-8333-333333333333';

function ring(elements: string[]): PayloadRingSource & { unwraps: number } {
  const source = {
    name: 'r',
    unwraps: 0,
    repository: { read: async () => ({ content: Buffer.from(`<?xml version="1.0" encoding="utf-8"?><repository>${elements.join('')}</repository>`), etag: '"1"' }) },
    protector: () => ({
      unprotect: async () => {
        source.unwraps++;
        throw new Error('no key encryption key in this test');
      },
    }),
  };
  return source;
}

const secrets = { [OLD]: randomBytes(64), [CURRENT]: randomBytes(64), [REVOKED]: randomBytes(64) };
const key = (id: keyof typeof secrets, created: number, activates: number, expires: number, secret = masterKeyXml(secrets[id])) =>
  keyXml(id, { creationDate: created, activationDate: activates, expirationDate: expires }, secret);

const elements = [
  key(OLD, NOW - 120 * DAY, NOW - 120 * DAY, NOW - 30 * DAY), // expired
  key(CURRENT, NOW - 40 * DAY, NOW - 30 * DAY, NOW + 60 * DAY),
  // Revoked, and its secret is garbage: a revoked key must be refused before its secret is read.
  key(
    REVOKED,
    NOW - 50 * DAY,
    NOW - 50 * DAY,
    NOW + 40 * DAY,
    '<encryptedSecret decryptorType="x" xmlns="http://schemas.asp.net/2015/03/dataProtection"><encryptedKey xmlns=""><kid>k</kid><key>AA==</key><iv>AA==</iv><value>AA==</value></encryptedKey></encryptedSecret>',
  ),
  revocationXml(REVOKED, NOW - 1 * DAY, 'compromised'),
];

async function failure(promise: Promise<unknown>): Promise<PayloadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof PayloadError)) throw new Error(`expected a PayloadError, got ${String(err)}`);
  return err;
}

describe('RingDataProtector', () => {
  it('protects with the default key now and unprotects it again', async () => {
    const protector = await RingDataProtector.open(ring(elements), { now: NOW });
    const payload = await protector.protect(['app', 'Cookies'], Buffer.from('hello'));
    expect(readPayloadHeader(payload).keyId).toBe(CURRENT);
    expect((await protector.unprotect(payload, ['app', 'Cookies'])).toString()).toBe('hello');
  });

  it('unprotects with an expired key, as ASP.NET Core does', async () => {
    const protector = await RingDataProtector.open(ring(elements), { now: NOW });
    const payload = protectPayload({ id: OLD, masterKey: secrets[OLD] }, ['p'], Buffer.from('old'));
    expect((await protector.unprotect(payload, ['p'])).toString()).toBe('old');
  });

  it('refuses a revoked key before touching its secret, and a key it does not hold', async () => {
    const source = ring(elements);
    const protector = await RingDataProtector.open(source, { now: NOW });
    const revoked = protectPayload({ id: REVOKED, masterKey: secrets[REVOKED] }, ['p'], Buffer.from('x'));
    expect((await failure(protector.unprotect(revoked, ['p']))).code).toBe('key_revoked');
    expect(source.unwraps).toBe(0);
    const foreign = protectPayload({ id: '44444444-4444-4444-8444-444444444444', masterKey: randomBytes(64) }, ['p'], Buffer.from('x'));
    const notFound = await failure(protector.unprotect(foreign, ['p']));
    expect(notFound.code).toBe('key_not_found');
    expect(notFound.message).toBe('the key {44444444-4444-4444-8444-444444444444} was not found in the key ring');
  });

  it('refuses to protect when the ring has no key to protect with', async () => {
    const protector = await RingDataProtector.open(ring([key(REVOKED, NOW - 50 * DAY, NOW - 50 * DAY, NOW + 40 * DAY), revocationXml(REVOKED, NOW, '')]), { now: NOW });
    await expect(protector.protect([], Buffer.alloc(0))).rejects.toBeInstanceOf(NoProtectionKeyError);
  });

  it('names the key whose master key cannot be read', async () => {
    const protector = await RingDataProtector.open(ring([key(CURRENT, NOW - 40 * DAY, NOW - 30 * DAY, NOW + 60 * DAY, masterKeyXml(randomBytes(32)))]), { now: NOW });
    await expect(protector.protect([], Buffer.alloc(0))).rejects.toThrow(`the master key of {${CURRENT}} cannot be read: the master key is 32 bytes, expected 64`);
  });
});
