import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../../../shared/keyring/dotnetDate';
import {
  compareKeyIds,
  firstGap,
  KEY_PROPAGATION_WINDOW,
  MAX_SERVER_CLOCK_SKEW,
  preferredKey,
  resolutionBoundaries,
  resolveDefaultKey,
  type ResolvableKey,
} from '../../../../shared/keyring/policy/DefaultKeyResolver';
import { arbFractions, arbResolvableKeys, instantsIn, rk } from './ringArbitraries';

/** DateTimeOffset.ParseExact(s, "u"): "2015-03-01 00:00:00Z". */
const u = (s: string): number => Date.parse(s.replace(' ', 'T'));
/** DateTimeOffset.MinValue: the C# tests' CreateKey default creation date (always propagated). */
const MIN_VALUE = Date.parse('0001-01-01T00:00:00Z');

let counter = 0;
/** DefaultKeyResolverTests.CreateKey(activationDate, expirationDate, creationDate?, isRevoked?). */
function createKey(activation: string | number, expiration: string | number, opts: { creation?: string | number; revoked?: boolean; id?: string } = {}): ResolvableKey {
  const date = (d: string | number) => (typeof d === 'number' ? d : u(d));
  counter++;
  const id = opts.id ?? `${counter.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  return rk(id, opts.creation === undefined ? MIN_VALUE : date(opts.creation), date(activation), date(expiration), opts.revoked ?? false);
}

/** ShouldGenerateNewKey = defaultKey is null (DefaultKeyResolver.ResolveDefaultKeyPolicy). */
const shouldGenerateNewKey = (r: { defaultKey?: unknown }) => r.defaultKey === undefined;

// Source of truth for which key is preferred: FindDefaultKey as SHIPPED in Microsoft.AspNetCore.DataProtection
// 10.0.12 (decompiled from the runtime on this machine), not dotnet/aspnetcore's main branch. The shipping
// resolver prefers the most recently activated key (activation <= now + 5 min, ties to the lower key id)
// whether or not it has propagated; propagation only orders the fallback. The C# tests that assert
// main's propagation preference are ported below with their expectations changed to what 10.0.12 does.
describe('resolveDefaultKey: DefaultKeyResolverTests (dotnet/aspnetcore) ported', () => {
  it('ResolveDefaultKeyPolicy_EmptyKeyRing_ReturnsNullDefaultKey', () => {
    const r = resolveDefaultKey([], Date.now());
    expect(r.defaultKey).toBeUndefined();
    expect(r.fallbackKey).toBeUndefined();
    expect(shouldGenerateNewKey(r)).toBe(true);
  });

  it('ResolveDefaultKeyPolicy_ValidExistingKey_ReturnsExistingKey', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const key2 = createKey('2016-03-01 00:00:00Z', '2017-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1, key2], u('2016-02-20 23:59:00Z'));
    expect(r.defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_ValidExistingKey_AllowsForClockSkew_KeysStraddleSkewLine_ReturnsExistingKey', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const key2 = createKey('2016-03-01 00:00:00Z', '2017-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1, key2], u('2016-02-29 23:59:00Z'));
    expect(r.defaultKey).toBe(key2);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_ValidExistingKey_AllowsForClockSkew_AllKeysInFuture_ReturnsExistingKey', () => {
    const key1 = createKey('2016-03-01 00:00:00Z', '2017-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1], u('2016-02-29 23:59:00Z'));
    expect(r.defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_ValidExistingKey_NoSuccessor_ReturnsExistingKey_DoesNotSignalGenerateNewKey', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1], u('2016-02-29 23:59:00Z'));
    expect(r.defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false); // does not reflect the pending expiration
  });

  it('ResolveDefaultKeyPolicy_ValidExistingKey_NoLegitimateSuccessor_ReturnsExistingKey_DoesNotSignalGenerateNewKey', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const key2 = createKey('2016-03-01 00:00:00Z', '2017-03-01 00:00:00Z', { revoked: true });
    const key3 = createKey('2016-03-01 00:00:00Z', '2016-03-02 00:00:00Z'); // expires too soon
    const r = resolveDefaultKey([key1, key2, key3], u('2016-02-29 23:50:00Z'));
    expect(r.defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_MostRecentKeyIsInvalid_BecauseOfRevocation_ReturnsNull', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const key2 = createKey('2015-03-02 00:00:00Z', '2016-03-01 00:00:00Z', { revoked: true });
    const r = resolveDefaultKey([key1, key2], u('2015-04-01 00:00:00Z'));
    expect(r.defaultKey).toBeUndefined();
    expect(shouldGenerateNewKey(r)).toBe(true);
    // Not asserted in C#, follows from the fallback rule: key1 is the only unrevoked propagated key.
    expect(r.fallbackKey).toBe(key1);
  });

  it('ResolveDefaultKeyPolicy_MostRecentKeyIsInvalid_BecauseOfFailureToDecipher_ReturnsNull (adapted: encryptors always succeed, so key2 is the default)', () => {
    // ringkeeper's resolver assumes CreateEncryptor succeeds (verify checks keys separately): the key
    // the C# test makes undecipherable is an ordinary key here and wins on activation date.
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const key2 = createKey('2015-03-02 00:00:00Z', '2016-03-01 00:00:00Z');
    expect(resolveDefaultKey([key1, key2], u('2015-04-01 00:00:00Z')).defaultKey).toBe(key2);
  });

  it('ResolveDefaultKeyPolicy_FutureKeyIsValidAndWithinClockSkew_ReturnsFutureKey', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1], u('2015-02-28 23:55:00Z')); // activation == now + skew exactly
    expect(r.defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_FutureKeyIsValidButNotWithinClockSkew_ReturnsNull', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2016-03-01 00:00:00Z');
    const r = resolveDefaultKey([key1], u('2015-02-28 23:00:00Z'));
    expect(r.defaultKey).toBeUndefined();
    expect(shouldGenerateNewKey(r)).toBe(true);
    // Not asserted in C#: the key is unrevoked and propagated (creation MinValue), so it is the fallback.
    expect(r.fallbackKey).toBe(key1);
  });

  it('ResolveDefaultKeyPolicy_IgnoresExpiredOrRevokedFutureKeys', () => {
    const key1 = createKey('2015-03-01 00:00:00Z', '2014-03-01 00:00:00Z'); // expiration before activation
    const key2 = createKey('2015-03-01 00:01:00Z', '2015-04-01 00:00:00Z', { revoked: true });
    const key3 = createKey('2015-03-01 00:02:00Z', '2015-04-01 00:00:00Z');
    const r = resolveDefaultKey([key1, key2, key3], u('2015-02-28 23:59:00Z'));
    expect(r.defaultKey).toBe(key3);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('ResolveDefaultKeyPolicy_FallbackKey_SelectsLatestBeforePriorPropagationWindow_IgnoresRevokedKeys', () => {
    const key1 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-01 00:00:00Z' });
    const key2 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-02 00:00:00Z' });
    const key3 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-03 00:00:00Z', revoked: true });
    const key4 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-04 00:00:00Z' });
    const r = resolveDefaultKey([key1, key2, key3, key4], u('2000-01-05 00:00:00Z'));
    expect(r.fallbackKey).toBe(key2);
    expect(shouldGenerateNewKey(r)).toBe(true);
  });

  it('ResolveDefaultKeyPolicy_FallbackKey_SelectsLatestBeforePriorPropagationWindow_IgnoresFailures (adapted: no failures, key3 created exactly at the cutoff is the fallback)', () => {
    const key1 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-01 00:00:00Z' });
    const key2 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-02 00:00:00Z' });
    const key3 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-03 00:00:00Z' });
    const key4 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-04 00:00:00Z' });
    const r = resolveDefaultKey([key1, key2, key3, key4], u('2000-01-05 00:00:00Z'));
    expect(r.fallbackKey).toBe(key3); // creation == now - 2 days counts as propagated (<=)
    expect(shouldGenerateNewKey(r)).toBe(true);
  });

  it('ResolveDefaultKeyPolicy_FallbackKey_NoNonRevokedKeysBeforePriorPropagationWindow_SelectsEarliestNonRevokedKey', () => {
    const key1 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-03 00:00:00Z', revoked: true });
    const key2 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-04 00:00:00Z' });
    const key3 = createKey('2010-01-01 00:00:00Z', '2010-01-01 00:00:00Z', { creation: '2000-01-05 00:00:00Z' });
    const r = resolveDefaultKey([key1, key2, key3], u('2000-01-05 00:00:00Z'));
    expect(r.fallbackKey).toBe(key2);
    expect(shouldGenerateNewKey(r)).toBe(true);
  });

  it('ResolveDefaultKeyPolicy_PropagatedKeyPreferred (10.0.12: most recent activation wins, the unpropagated key2)', () => {
    // main's test expects key1 (propagated). The shipping 10.0.12 FindDefaultKey (decompiled) has no
    // propagated/unpropagated split: key2, activated a minute later, is the default.
    const now = u('2010-01-01 00:00:00Z');
    const creation1 = now - KEY_PROPAGATION_WINDOW;
    const creation2 = now;
    const activation1 = now + MINUTE;
    const activation2 = activation1 + MINUTE; // more recently activated, but not propagated
    const key1 = createKey(activation1, creation1 + 90 * DAY, { creation: creation1 });
    const key2 = createKey(activation2, creation2 + 90 * DAY, { creation: creation2 });
    const r = resolveDefaultKey([key1, key2], now);
    expect(r.defaultKey).toBe(key2);
    expect(resolveDefaultKey([key2, key1], now).defaultKey).toBe(key2);
    expect(shouldGenerateNewKey(r)).toBe(false);
    // Once key2 is out of the skew window key1 is the default again: activation decides, not creation.
    expect(resolveDefaultKey([key1, key2], activation2 - MAX_SERVER_CLOCK_SKEW - 1).defaultKey).toBe(key1);
  });

  it('ResolveDefaultKeyPolicy_OlderUnpropagatedKeyPreferred (10.0.12: most recent activation wins, key1)', () => {
    // main's test expects key2 (the older of two unpropagated keys). The shipping 10.0.12 FindDefaultKey
    // (decompiled) orders by activation descending: key1, activated an hour after key2, is the default.
    const now = u('2010-01-01 00:00:00Z');
    const creation1 = now - HOUR;
    const creation2 = creation1 - HOUR;
    const key1 = createKey(creation1, creation1 + 90 * DAY, { creation: creation1 });
    const key2 = createKey(creation2, creation2 + 90 * DAY, { creation: creation2 });
    const r = resolveDefaultKey([key1, key2], now);
    expect(r.defaultKey).toBe(key1);
    expect(resolveDefaultKey([key2, key1], now).defaultKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(false);
  });

  it('CreateEncryptor_NoRetryOnNullReturn (adapted: the encryptor is assumed to exist, so the key is the default)', () => {
    const now = u('2010-01-01 00:00:00Z');
    const key = createKey(now - 1 * DAY, now + 14 * DAY, { creation: now - 3 * DAY });
    expect(resolveDefaultKey([key], now).defaultKey).toBe(key);
  });

  it('CreateEncryptor_FirstAttemptIsNotARetry (adapted: key2 unusable expressed as revoked; key1 is the fallback)', () => {
    const now = u('2010-01-01 00:00:00Z');
    const creation1 = now - 3 * DAY;
    const activation1 = creation1 + 2 * DAY;
    const expiration1 = creation1 + 90 * DAY;
    // Newer but still propagated => preferred
    const key1 = createKey(activation1, expiration1, { creation: creation1 });
    const key2Usable = createKey(activation1 + HOUR, expiration1 + HOUR, { creation: creation1 + HOUR });
    expect(resolveDefaultKey([key1, key2Usable], now).defaultKey).toBe(key2Usable);

    const key2Unusable = { ...key2Usable, revoked: true };
    const r = resolveDefaultKey([key1, key2Unusable], now);
    expect(r.defaultKey).toBeUndefined();
    expect(r.fallbackKey).toBe(key1);
    expect(shouldGenerateNewKey(r)).toBe(true);
  });

  it('CreateEncryptor_SucceedsOnRetry (adapted: the key is the default)', () => {
    const now = u('2010-01-01 00:00:00Z');
    const creation = now - 3 * DAY;
    const key = createKey(creation + 2 * DAY, creation + 90 * DAY, { creation });
    expect(resolveDefaultKey([key], now).defaultKey).toBe(key);
  });
});

// The preferred-key rules below are those of the shipping runtime (Microsoft.AspNetCore.DataProtection
// 10.0.12, decompiled): most recent activation within the skew, ties to the lower id, propagation ignored.
describe('resolveDefaultKey: FindDefaultKey rules at their edges', () => {
  const now = u('2024-06-01 12:00:00Z');
  const old = now - 30 * DAY;
  const A = '10000000-0000-4000-8000-000000000000';
  const B = '20000000-0000-4000-8000-000000000000';
  const C = '30000000-0000-4000-8000-000000000000';

  it('all keys expired: no default; the fallback is the newest propagated unrevoked key, expired or not', () => {
    const k1 = rk(A, old - 100 * DAY, old - 100 * DAY, old - 10 * DAY);
    const k2 = rk(B, old - 50 * DAY, old - 50 * DAY, old);
    const r = resolveDefaultKey([k1, k2], now);
    expect(r.defaultKey).toBeUndefined();
    // k2 is preferred (latest activation) and so not reconsidered: k1 is the fallback, though expired.
    expect(r.fallbackKey).toBe(k1);
  });

  it('all keys revoked: no default and no fallback', () => {
    const r = resolveDefaultKey([rk(A, old, old, now + DAY, true), rk(B, now - HOUR, now - HOUR, now + DAY, true)], now);
    expect(r).toEqual({ fallbackKey: undefined });
  });

  it('10.0.12: the latest activation wins, propagated or not (an unpropagated key beats older propagated ones)', () => {
    const k1 = rk(A, old, old, now + 60 * DAY);
    const k2 = rk(B, old, now - DAY, now + 60 * DAY);
    const k3 = rk(C, now - HOUR, now - HOUR / 2, now + 60 * DAY); // activated later, not propagated
    expect(resolveDefaultKey([k1, k2, k3], now).defaultKey).toBe(k3);
    expect(preferredKey([k3, k2, k1], now)).toBe(k3);
    // Without k3 the newest propagated activation wins.
    expect(resolveDefaultKey([k1, k2], now).defaultKey).toBe(k2);
  });

  it('ties on activation among propagated keys go to the lower key id (KeyId ascending)', () => {
    const kB = rk(B, old, now - DAY, now + 60 * DAY);
    const kA = rk(A, old + HOUR, now - DAY, now + 60 * DAY);
    expect(resolveDefaultKey([kB, kA], now).defaultKey).toBe(kA);
    expect(resolveDefaultKey([kA, kB], now).defaultKey).toBe(kA);
  });

  it('ties on activation among unpropagated keys go to the lower key id', () => {
    const kC = rk(C, now - HOUR, now - HOUR, now + 60 * DAY);
    const kB = rk(B, now - HOUR, now - HOUR, now + 60 * DAY);
    expect(resolveDefaultKey([kC, kB], now).defaultKey).toBe(kB);
  });

  it('a lower id wins the tie even when that key is revoked: no default (the other key is not considered)', () => {
    const kA = rk(A, old, now - DAY, now + 60 * DAY, true);
    const kB = rk(B, old, now - DAY, now + 60 * DAY);
    const r = resolveDefaultKey([kB, kA], now);
    expect(r.defaultKey).toBeUndefined();
    expect(r.fallbackKey).toBe(kB);
  });

  it('ties on activation between a propagated and an unpropagated key go to the lower id (propagation ignored)', () => {
    const propagatedB = rk(B, old, now - HOUR, now + 60 * DAY);
    const unpropagatedA = rk(A, now - 2 * HOUR, now - HOUR, now + 60 * DAY);
    expect(resolveDefaultKey([propagatedB, unpropagatedA], now).defaultKey).toBe(unpropagatedA);
    const unpropagatedC = rk(C, now - 2 * HOUR, now - HOUR, now + 60 * DAY);
    expect(resolveDefaultKey([unpropagatedC, propagatedB], now).defaultKey).toBe(propagatedB);
  });

  it('10.0.12: unpropagated keys only: the latest activation wins (main picks the earliest)', () => {
    const k1 = rk(A, now - 2 * HOUR, now - HOUR, now + 60 * DAY);
    const k2 = rk(B, now - 3 * HOUR, now - 2 * HOUR, now + 60 * DAY);
    expect(resolveDefaultKey([k1, k2], now).defaultKey).toBe(k1);
    expect(resolveDefaultKey([k2, k1], now).defaultKey).toBe(k1);
  });

  it('10.0.12: a key written now and active now is the default at once (a just-written bootstrap or replacement)', () => {
    const previous = rk(B, old, old, now + 60 * DAY, true); // revoked
    const fresh = rk(C, now, now, now + 90 * DAY);
    expect(resolveDefaultKey([previous, fresh], now)).toEqual({ defaultKey: fresh });
    expect(resolveDefaultKey([rk(A, old, old, now - DAY), fresh], now)).toEqual({ defaultKey: fresh });
  });

  it.each([
    ['activation == now + 5 min: activated (<=)', now + MAX_SERVER_CLOCK_SKEW, true],
    ['activation == now + 5 min + 1 ms: not activated', now + MAX_SERVER_CLOCK_SKEW + 1, false],
    ['activation == now', now, true],
  ])('clock skew: %s', (_name, activation, activated) => {
    const k = rk(A, old, activation, now + 60 * DAY);
    expect(resolveDefaultKey([k], now).defaultKey === k).toBe(activated);
  });

  it.each([
    ['creation == now - 2 d (propagated)', now - 2 * DAY],
    ['creation == now - 2 d + 1 ms (unpropagated)', now - 2 * DAY + 1],
  ])('propagation cutoff does not move the default (10.0.12): %s, the later activation wins either way', (_name, creation) => {
    const earlier = rk(A, now - HOUR, now - 3 * DAY, now + 60 * DAY);
    const candidate = rk(B, creation, now - DAY, now + 60 * DAY);
    expect(resolveDefaultKey([earlier, candidate], now).defaultKey).toBe(candidate);
    expect(resolveDefaultKey([candidate, earlier], now).defaultKey).toBe(candidate);
  });

  it.each([
    ['creation == now - 2 d: propagated (<=), the newest propagated fallback', now - 2 * DAY, B],
    ['creation == now - 2 d + 1 ms: unpropagated, the older propagated key is the fallback', now - 2 * DAY + 1, A],
  ])('propagation cutoff orders the fallback: %s', (_name, creation, fallback) => {
    const blocker = rk(C, old, now - HOUR, now + 60 * DAY, true); // preferred, revoked
    const propagated = rk(A, old, old, now + 60 * DAY);
    const candidate = rk(B, creation, old, now + 60 * DAY);
    expect(resolveDefaultKey([blocker, propagated, candidate], now)).toEqual({ fallbackKey: fallback === A ? propagated : candidate });
  });

  it.each([
    ['expiration == now: expired (<=)', now, false],
    ['expiration == now + 1 ms: valid', now + 1, true],
  ])('expiration: %s', (_name, expiration, valid) => {
    const k = rk(A, old, old, expiration);
    expect(resolveDefaultKey([k], now).defaultKey === k).toBe(valid);
  });

  it('fallback order: propagated by creation desc, then unpropagated by creation asc; revoked excluded; may be expired', () => {
    const blocker = rk(A, old, now - HOUR, now + 60 * DAY, true); // preferred, revoked
    const p1 = rk(B, old - 20 * DAY, old - 20 * DAY, old - 10 * DAY); // propagated, expired
    const p2 = rk(C, old - 10 * DAY, old - 10 * DAY, old - 5 * DAY); // propagated, newer creation, expired
    const p3 = rk('40000000-0000-4000-8000-000000000000', old - 5 * DAY, old, now + DAY, true); // newest, revoked
    const u1 = rk('50000000-0000-4000-8000-000000000000', now - HOUR, now + 10 * DAY, now + 90 * DAY);
    const u2 = rk('60000000-0000-4000-8000-000000000000', now - 2 * HOUR, now + 10 * DAY, now + 90 * DAY);
    expect(resolveDefaultKey([blocker, p1, p2, p3, u1, u2], now)).toEqual({ fallbackKey: p2 });
    expect(resolveDefaultKey([blocker, p1, p3, u1, u2], now)).toEqual({ fallbackKey: p1 });
    expect(resolveDefaultKey([blocker, p3, u1, u2], now)).toEqual({ fallbackKey: u2 });
    expect(resolveDefaultKey([blocker, p3, u1], now)).toEqual({ fallbackKey: u1 });
    expect(resolveDefaultKey([blocker, p3], now)).toEqual({ fallbackKey: undefined });
  });

  it('the preferred key is not reconsidered as a propagated fallback', () => {
    const only = rk(A, old, old, now - DAY); // propagated, preferred, expired
    expect(resolveDefaultKey([only], now)).toEqual({ fallbackKey: undefined });
    const other = rk(B, old - DAY, old - DAY, now - 2 * DAY);
    expect(resolveDefaultKey([only, other], now)).toEqual({ fallbackKey: other });
  });

  it('an unpropagated preferred key is not excluded from the unpropagated fallbacks (as in C#)', () => {
    const only = rk(A, now - DAY, now - DAY, now - HOUR); // unpropagated, preferred, expired
    expect(resolveDefaultKey([only], now)).toEqual({ fallbackKey: only });
  });
});

describe('compareKeyIds, resolutionBoundaries, firstGap', () => {
  /** Guid.CompareTo: _a (uint), _b, _c (ushort), then bytes _d.._k — read from the "D" string. */
  function guidCompareTo(x: string, y: string): number {
    const fields = (g: string) => {
      const h = g.replace(/-/g, '');
      return [parseInt(h.slice(0, 8), 16), parseInt(h.slice(8, 12), 16), parseInt(h.slice(12, 16), 16), ...Array.from({ length: 8 }, (_, i) => parseInt(h.slice(16 + 2 * i, 18 + 2 * i), 16))];
    };
    const a = fields(x);
    const b = fields(y);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return 0;
  }

  it('orders lowercase D-format ids as Guid.CompareTo does (unsigned fields)', () => {
    expect(compareKeyIds('ffffffff-0000-0000-0000-000000000000', '7fffffff-ffff-ffff-ffff-ffffffffffff')).toBe(1);
    expect(compareKeyIds('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000000')).toBe(1);
    expect(compareKeyIds('3d6d01fd-c0e7-44ae-82dd-013b996b4093', '3d6d01fd-c0e7-44ae-82dd-013b996b4093')).toBe(0);
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (x, y) => {
        expect(Math.sign(compareKeyIds(x, y))).toBe(guidCompareTo(x, y));
      }),
      { numRuns: 500 },
    );
  });

  it('resolutionBoundaries: from, then every activation − skew, propagation and expiration in (from, to], sorted and unique', () => {
    const now = u('2024-06-01 12:00:00Z');
    const k = rk('10000000-0000-4000-8000-000000000000', now - DAY, now + DAY, now + 10 * DAY);
    expect(resolutionBoundaries([k, k], now, now + 30 * DAY)).toEqual([now, now + DAY - MAX_SERVER_CLOCK_SKEW, now + DAY, now + 10 * DAY]);
    expect(resolutionBoundaries([k], now, now + DAY)).toEqual([now, now + DAY - MAX_SERVER_CLOCK_SKEW, now + DAY]);
    expect(resolutionBoundaries([k], now + DAY, now + 9 * DAY)).toEqual([now + DAY]);
  });

  it('firstGap: the first instant without a valid default, or undefined', () => {
    const now = u('2024-06-01 12:00:00Z');
    const current = rk('10000000-0000-4000-8000-000000000000', now - 80 * DAY, now - 80 * DAY, now + 10 * DAY);
    expect(firstGap([current], now, now + 10 * DAY - 1)).toBeUndefined();
    expect(firstGap([current], now, now + 14 * DAY)).toBe(now + 10 * DAY);
    const successor = rk('20000000-0000-4000-8000-000000000000', now, now + 10 * DAY, now + 100 * DAY);
    expect(firstGap([current, successor], now, now + 14 * DAY)).toBeUndefined();
    expect(firstGap([], now, now + DAY)).toBe(now);
  });

  /**
   * A literal transcription of DefaultKeyResolver.FindDefaultKey as shipped in Microsoft.AspNetCore.DataProtection
   * 10.0.12 (decompiled), with CanCreateAuthenticatedEncryptor always true (LINQ: stable OrderBy / ThenBy):
   *
   *   maxActivationDate = now + _maxServerToServerClockSkew;
   *   preferredDefaultKey = (from key in allKeys where key.ActivationDate <= maxActivationDate
   *       orderby key.ActivationDate descending, key.KeyId select key).FirstOrDefault();
   *   if (preferredDefaultKey != null && !IsRevoked && !IsExpired(now) && CanCreate...) return preferredDefaultKey;
   *   maxCreationDate = now - _keyPropagationWindow;
   *   source = allKeys.Where(key => !key.IsRevoked);
   *   fallbackKey = (from key in source where key != preferredDefaultKey where key.CreationDate <= maxCreationDate
   *       orderby key.CreationDate descending select key)
   *     .Concat(from key in source where key.CreationDate > maxCreationDate orderby key.CreationDate select key)
   *     .Where(CanCreate...).FirstOrDefault();
   */
  function findDefaultKeyReference(keys: readonly ResolvableKey[], now: number): { defaultKey?: ResolvableKey; fallbackKey?: ResolvableKey } {
    const maxActivationDate = now + 5 * MINUTE;
    const preferredDefaultKey = keys.filter((key) => key.activationDate <= maxActivationDate).sort((a, b) => b.activationDate - a.activationDate || guidCompareTo(a.id, b.id))[0];
    if (preferredDefaultKey !== undefined) {
      const isExpired = preferredDefaultKey.expirationDate <= now; // KeyBase.IsExpired(now)
      if (!preferredDefaultKey.revoked && !isExpired) return { defaultKey: preferredDefaultKey };
    }
    const maxCreationDate = now - 2 * DAY;
    const source = keys.filter((key) => !key.revoked);
    const fallbackKey = [
      ...source
        .filter((key) => key !== preferredDefaultKey)
        .filter((key) => key.creationDate <= maxCreationDate)
        .sort((a, b) => b.creationDate - a.creationDate),
      ...source.filter((key) => key.creationDate > maxCreationDate).sort((a, b) => a.creationDate - b.creationDate),
    ][0];
    return { fallbackKey };
  }

  it('property: resolveDefaultKey agrees with a literal transcription of FindDefaultKey (10.0.12)', () => {
    fc.assert(
      fc.property(arbResolvableKeys(), fc.array(fc.integer({ min: -5 * DAY, max: 20 * DAY }), { maxLength: 4 }), ({ now, keys }, deltas) => {
        for (const t of [now, ...deltas.map((d) => now + d)]) {
          const actual = resolveDefaultKey(keys, t);
          const expected = findDefaultKeyReference(keys, t);
          expect(actual.defaultKey).toBe(expected.defaultKey);
          expect(actual.fallbackKey).toBe(expected.fallbackKey);
          if (actual.defaultKey) expect(preferredKey(keys, t)).toBe(actual.defaultKey);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('property: the resolution is constant between consecutive boundaries (firstGap sees every gap)', () => {
    fc.assert(
      fc.property(arbResolvableKeys(), fc.integer({ min: 0, max: 60 * DAY }), arbFractions, ({ now, keys }, span, fractions) => {
        const to = now + span;
        const boundaries = resolutionBoundaries(keys, now, to);
        expect(boundaries[0]).toBe(now);
        for (const t of instantsIn([], fractions, now, to)) {
          const at = boundaries.filter((b) => b <= t).at(-1)!;
          const left = resolveDefaultKey(keys, at);
          const here = resolveDefaultKey(keys, t);
          expect(here.defaultKey).toBe(left.defaultKey);
          expect(here.fallbackKey).toBe(left.fallbackKey);
          if (!here.defaultKey) expect(firstGap(keys, now, to)).toBeLessThanOrEqual(t);
        }
        const gap = firstGap(keys, now, to);
        if (gap !== undefined) {
          expect(resolveDefaultKey(keys, gap).defaultKey).toBeUndefined();
          for (const b of boundaries.filter((x) => x < gap)) expect(resolveDefaultKey(keys, b).defaultKey).toBeDefined();
        }
      }),
      { numRuns: 1000 },
    );
  });
});
