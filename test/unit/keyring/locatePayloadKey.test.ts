import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { keyXml, masterKeyXml, revocationXml } from '../../../shared/keyring/KeyXmlWriter';
import { locatePayloadKey } from '../../../shared/keyring/locatePayloadKey';

const NOW = Date.UTC(2030, 5, 1);
const PROD = '11111111-1111-4111-8111-111111111111';
const STAGING = '22222222-2222-4222-8222-222222222222';
const key = (id: string, activation: number, expiration: number) =>
  keyXml(id, { creationDate: activation - DAY, activationDate: activation, expirationDate: expiration }, masterKeyXml(randomBytes(64)));
const doc = (...elements: string[]) => KeyRingDocument.parse(Buffer.from(`<repository>${elements.join('')}</repository>`));

const production = { name: 'production', document: doc(key(PROD, NOW - 10 * DAY, NOW + 80 * DAY)) };
const staging = { name: 'staging', document: doc(key(STAGING, NOW - 10 * DAY, NOW + 80 * DAY)) };

describe('locatePayloadKey', () => {
  it('names the slot whose ring holds the key', () => {
    const found = locatePayloadKey(STAGING, [production, staging], NOW);
    expect(found.unprotectsIn).toEqual(['staging']);
    expect(found.rings.map((r) => [r.ring, r.state])).toEqual([
      ['production', 'absent'],
      ['staging', 'present'],
    ]);
    expect(found.findings).toEqual(['not in ring production, present in ring staging: this payload was issued by the staging slot']);
    expect(found.rings[1]).toMatchObject({ isDefault: true, revoked: false, expired: false, notYetActive: false });
  });

  it('says when no ring holds it', () => {
    const found = locatePayloadKey('33333333-3333-4333-8333-333333333333', [production, staging], NOW);
    expect(found.unprotectsIn).toEqual([]);
    expect(found.findings[0]).toMatch(/^in no ring \(not in rings production, staging\): issued by an instance that generated its own key/);
  });

  it('reports revoked, expired, not yet active and unreadable keys', () => {
    const later = '44444444-4444-4444-8444-444444444444';
    const ring = doc(key(PROD, NOW - 100 * DAY, NOW - DAY), key(later, NOW + DAY, NOW + 90 * DAY), revocationXml(PROD, NOW - 2 * DAY, 'x'));
    const found = locatePayloadKey(PROD, [{ name: 'a', document: ring }], NOW);
    expect(found.unprotectsIn).toEqual([]);
    expect(found.rings[0]).toMatchObject({ state: 'present', revoked: true, expired: true });
    expect(found.findings).toEqual([
      'present in ring a',
      'revoked in ring a: apps there refuse it (key_revoked)',
      `expired in ring a since 2030-05-31T00:00:00Z: apps there still unprotect with it but no longer protect with it`,
    ]);
    expect(locatePayloadKey(later, [{ name: 'a', document: ring }], NOW).findings).toContain(`not yet active in ring a (activates 2030-06-02T00:00:00Z): apps there already unprotect with it`);

    const broken = doc(`<key id="${PROD}" version="1"><creationDate>yesterday</creationDate></key>`);
    const skipped = locatePayloadKey(PROD, [{ name: 'b', document: broken }], NOW);
    expect(skipped.rings[0]).toMatchObject({ state: 'unreadable' });
    expect(skipped.findings[1]).toMatch(/^ring b has an element for this key that ASP.NET Core skips/);
  });
});
