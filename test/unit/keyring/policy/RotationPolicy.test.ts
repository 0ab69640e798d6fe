import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE } from '../../../../shared/keyring/dotnetDate';
import { isRevoked, mostRecentMassRevocation, REVOKE_ALL, type KeyRing } from '../../../../shared/keyring/KeyRing';
import { KEY_PROPAGATION_WINDOW, MAX_SERVER_CLOCK_SKEW, compareKeyIds, resolutionBoundaries, resolveDefaultKey } from '../../../../shared/keyring/policy/DefaultKeyResolver';
import {
  DEFAULT_POLICY,
  PolicyError,
  defaultKeyAt,
  planRevocation,
  planRotation,
  resolvableKeys,
  ringAfter,
  type PolicySettings,
  type RingPlan,
} from '../../../../shared/keyring/policy/RotationPolicy';
import { applyPlan, arbFractions, arbRingSpec, arbSettings, buildRing, createdKeys, instantsIn, keyEntry, revocation, ringOf, type RingSpec } from './ringArbitraries';

const NOW = Date.parse('2025-01-15T12:00:00Z');
const ID = {
  current: '80000000-0000-4000-8000-000000000001',
  older: '80000000-0000-4000-8000-000000000002',
  successor: '80000000-0000-4000-8000-000000000003',
  revoked: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
  other: '80000000-0000-4000-8000-000000000004',
};

/** A propagated key active since `NOW - age`, expiring at `NOW + remaining`. */
function current(remaining: number, age = 90 * DAY - remaining, id = ID.current) {
  return keyEntry(id, NOW - age, NOW - age, NOW + remaining);
}

function resolve(ring: KeyRing, at: number) {
  return resolveDefaultKey(resolvableKeys(ring), at);
}

describe('planRotation: table', () => {
  it('DEFAULT_POLICY mirrors ASP.NET Core: 90-day keys, renew 14 days ahead, no retention', () => {
    expect(DEFAULT_POLICY).toEqual({ keyLifetime: 90 * DAY, renewBefore: 14 * DAY });
    expect(DEFAULT_POLICY.retention).toBeUndefined();
  });

  it('empty ring: one bootstrap key active now, expiring now + 90 d, with a warning', () => {
    const plan = planRotation(ringOf(), NOW, DEFAULT_POLICY);
    expect(plan.changes).toHaveLength(1);
    const [key] = createdKeys(plan);
    expect(key).toMatchObject({ kind: 'createKey', reason: 'bootstrap', dates: { creationDate: NOW, activationDate: NOW, expirationDate: NOW + 90 * DAY } });
    expect(key!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/no usable default key/);
    const after = applyPlan(ringOf(), plan);
    for (const t of [NOW, NOW + 2 * DAY, NOW + 14 * DAY]) expect(defaultKeyAt(after, t)).toBe(key!.id);
  });

  it('healthy ring (default key expires in more than renewBefore): no change, no warning', () => {
    const ring = ringOf([current(14 * DAY + 1)]);
    expect(planRotation(ring, NOW, DEFAULT_POLICY)).toEqual({ changes: [], warnings: [] });
  });

  it.each([
    ['10 days', 10 * DAY],
    ['exactly renewBefore (14 days)', 14 * DAY],
    ['3 days (the 72 h minimum)', 3 * DAY],
  ])('default key expiring within renewBefore (%s): one successor activating at its expiration', (_name, remaining) => {
    const ring = ringOf([current(remaining)]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY);
    expect(plan.warnings).toEqual([]);
    expect(plan.changes).toHaveLength(1);
    const expiration = NOW + remaining;
    const [s] = createdKeys(plan);
    expect(s).toMatchObject({ reason: 'successor', dates: { creationDate: NOW, activationDate: expiration, expirationDate: expiration + 90 * DAY } });
    const after = applyPlan(ring, plan);
    expect(defaultKeyAt(after, NOW)).toBe(ID.current);
    expect(defaultKeyAt(after, expiration - MAX_SERVER_CLOCK_SKEW - 1)).toBe(ID.current);
    expect(defaultKeyAt(after, expiration - MAX_SERVER_CLOCK_SKEW)).toBe(s!.id); // the skew lets it win 5 min early
    expect(defaultKeyAt(after, expiration)).toBe(s!.id);
    expect(defaultKeyAt(after, NOW + 14 * DAY)).toBe(s!.id);
  });

  it('successor already present: no change; planRotation is idempotent on the applied plan', () => {
    const ring = ringOf([current(10 * DAY)]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY);
    const after = applyPlan(ring, plan);
    expect(planRotation(after, NOW, DEFAULT_POLICY)).toEqual({ changes: [], warnings: [] });
    expect(planRotation(after, NOW + 6 * HOUR, DEFAULT_POLICY)).toEqual({ changes: [], warnings: [] });
    // ringAfter agrees with applying the plan.
    expect(ringAfter(ring, plan).map((k) => k.id)).toEqual(after.keys.map((k) => k.id));
  });

  it('force: a new key activating after the propagation window (now + 2 d)', () => {
    const ring = ringOf([current(60 * DAY)]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY, { force: true });
    expect(plan.changes).toHaveLength(1);
    const [f] = createdKeys(plan);
    expect(f).toMatchObject({ reason: 'forced', dates: { creationDate: NOW, activationDate: NOW + 2 * DAY, expirationDate: NOW + 92 * DAY } });
    expect(plan.warnings).toEqual([]);
    const after = applyPlan(ring, plan);
    expect(defaultKeyAt(after, NOW)).toBe(ID.current);
    expect(defaultKeyAt(after, NOW + 2 * DAY)).toBe(f!.id);
  });

  it('force + immediate: a new key activating now, with a warning', () => {
    const ring = ringOf([current(60 * DAY)]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY, { force: true, immediate: true });
    expect(plan.changes).toHaveLength(1);
    expect(createdKeys(plan)[0]).toMatchObject({ reason: 'forced', dates: { creationDate: NOW, activationDate: NOW, expirationDate: NOW + 90 * DAY } });
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toMatch(/active immediately/);
    // 10.0.12 prefers the most recent activation: the forced key is the default at once.
    const after = applyPlan(ring, plan);
    const f = createdKeys(plan)[0]!;
    for (const t of [NOW, NOW + 2 * DAY, NOW + 14 * DAY]) expect(defaultKeyAt(after, t)).toBe(f.id);
  });

  it('late successor (current key expires in 1 day): activation now + 2 d, with a warning about the gap', () => {
    const ring = ringOf([current(1 * DAY)]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY);
    expect(plan.changes).toHaveLength(1);
    const [s] = createdKeys(plan);
    expect(s).toMatchObject({ reason: 'successor', dates: { creationDate: NOW, activationDate: NOW + 2 * DAY, expirationDate: NOW + 92 * DAY } });
    const after = applyPlan(ring, plan);
    // In the gap [now + 1 d, now + 2 d - 5 min) apps with generation disabled fall back to the new key
    // (unpropagated keys by creation ascending: the fallback rule is unchanged in 10.0.12) ...
    expect(resolve(after, NOW + 1 * DAY)).toEqual({ fallbackKey: expect.objectContaining({ id: s!.id }) });
    expect(resolve(after, NOW + 2 * DAY - MAX_SERVER_CLOCK_SKEW - 1)).toEqual({ fallbackKey: expect.objectContaining({ id: s!.id }) });
    expect(defaultKeyAt(after, NOW + 2 * DAY - MAX_SERVER_CLOCK_SKEW)).toBe(s!.id);
    expect(defaultKeyAt(after, NOW + 2 * DAY)).toBe(s!.id);
    // ... so the one warning must give the gap and name that key, as the written ring resolves it.
    expect(plan.warnings).toEqual([
      expect.stringMatching(new RegExp(`written late: no key is the default from 2025-01-16T12:00:00Z until it activates at 2025-01-17T12:00:00Z.*fall back to key \\{${s!.id}\\}`)),
    ]);
  });

  it('late successor: planning again (same now, or a 6-hourly timer run inside the gap warning) writes no further key', () => {
    const ring = ringOf([current(1 * DAY)]);
    const after = applyPlan(ring, planRotation(ring, NOW, DEFAULT_POLICY));
    expect(createdKeys(planRotation(after, NOW, DEFAULT_POLICY))).toEqual([]);
    expect(createdKeys(planRotation(after, NOW + 6 * HOUR, DEFAULT_POLICY))).toEqual([]);
  });

  it('a revoked key activating later in the window is beaten by a new key (tie on activation -> lower id)', () => {
    const activation = NOW + 5 * DAY;
    const revokedSuccessor = keyEntry(ID.revoked, NOW - 30 * DAY, activation, activation + 90 * DAY);
    const ring = ringOf([current(60 * DAY), revokedSuccessor], [revocation(ID.revoked, NOW - DAY, 'compromised')]);
    const plan = planRotation(ring, NOW, DEFAULT_POLICY);
    expect(plan.changes).toHaveLength(1);
    const [n] = createdKeys(plan);
    expect(n).toMatchObject({ reason: 'successor', dates: { creationDate: NOW, activationDate: activation, expirationDate: activation + 90 * DAY } });
    expect(compareKeyIds(n!.id, ID.revoked)).toBeLessThan(0);
    const after = applyPlan(ring, plan);
    expect(defaultKeyAt(after, activation - MAX_SERVER_CLOCK_SKEW - 1)).toBe(ID.current);
    expect(defaultKeyAt(after, activation - MAX_SERVER_CLOCK_SKEW)).toBe(n!.id);
    expect(defaultKeyAt(after, activation)).toBe(n!.id);
  });

  it("a run inside the bootstrap key's propagation window writes no further key (the only key expired long ago)", () => {
    // 10.0.12 prefers the most recent activation: the bootstrap key is the default at once, so the
    // timer runs every 6 h afterwards find nothing to do.
    let ring = ringOf([keyEntry(ID.older, NOW - 100 * DAY, NOW - 100 * DAY, NOW - 10 * DAY)]);
    const first = planRotation(ring, NOW, DEFAULT_POLICY);
    expect(createdKeys(first).map((c) => c.reason)).toEqual(['bootstrap']);
    ring = applyPlan(ring, first);
    const bootstrap = createdKeys(first)[0]!;
    for (const t of [NOW, NOW + 2 * DAY, NOW + 14 * DAY]) expect(defaultKeyAt(ring, t)).toBe(bootstrap.id);
    for (const later of [NOW, NOW + 6 * HOUR, NOW + 2 * DAY - 1]) expect(createdKeys(planRotation(ring, later, DEFAULT_POLICY)), `at now + ${(later - NOW) / HOUR} h`).toEqual([]);
  });

  it('a timer run after revoking the default key writes no further key', () => {
    let ring = ringOf([current(60 * DAY)]);
    ring = applyPlan(ring, planRevocation(ring, NOW, DEFAULT_POLICY, { keyId: ID.current }));
    expect(createdKeys(planRotation(ring, NOW, DEFAULT_POLICY))).toEqual([]);
    expect(createdKeys(planRotation(ring, NOW + 6 * HOUR, DEFAULT_POLICY))).toEqual([]);
  });

  it('future-dated mass revocation: PolicyError("unsatisfiable")', () => {
    const ring = ringOf([current(60 * DAY)], [revocation(REVOKE_ALL, NOW + DAY)]);
    let error: unknown;
    try {
      planRotation(ring, NOW, DEFAULT_POLICY);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'unsatisfiable', name: 'PolicyError' });
    expect((error as Error).message).toMatch(/in the future/);
  });

  it('retention is off by default: long-expired keys and their revocations are kept', () => {
    const ancient = keyEntry(ID.older, NOW - 1000 * DAY, NOW - 1000 * DAY, NOW - 910 * DAY);
    const ring = ringOf([ancient, current(60 * DAY)], [revocation(ID.older, NOW - 950 * DAY), revocation(REVOKE_ALL, NOW - 2000 * DAY), revocation(REVOKE_ALL, NOW - 1500 * DAY)]);
    expect(planRotation(ring, NOW, DEFAULT_POLICY).changes).toEqual([]);
  });

  it('retention on: deletes keys expired more than N days ago, their revocations, orphan and superseded mass revocations; never the default key', () => {
    const old1 = keyEntry(ID.older, NOW - 200 * DAY, NOW - 200 * DAY, NOW - 110 * DAY); // expired 110 d ago
    const old2 = keyEntry(ID.other, NOW - 120 * DAY, NOW - 120 * DAY, NOW - 30 * DAY); // expired exactly 30 d ago: kept (<)
    const old2b = keyEntry(ID.successor, NOW - 121 * DAY, NOW - 121 * DAY, NOW - 30 * DAY - 1); // 30 d + 1 ms: deleted
    const cur = current(60 * DAY);
    const revOld1 = revocation(ID.older, NOW - 150 * DAY);
    const revOld2 = revocation(ID.other, NOW - 60 * DAY);
    const orphan = revocation('00000000-0000-4000-8000-00000000dead', NOW - 300 * DAY);
    const massOld = revocation(REVOKE_ALL, NOW - 400 * DAY);
    const massLatest = revocation(REVOKE_ALL, NOW - 300 * DAY);
    const ring = ringOf([old1, old2, old2b, cur], [massOld, revOld1, orphan, revOld2, massLatest]);
    const settings: PolicySettings = { ...DEFAULT_POLICY, retention: 30 * DAY };
    const plan = planRotation(ring, NOW, settings);
    expect(plan.changes).toEqual([
      { kind: 'deleteKey', key: old1 },
      { kind: 'deleteKey', key: old2b },
      { kind: 'deleteRevocation', revocation: massOld },
      { kind: 'deleteRevocation', revocation: revOld1 },
      { kind: 'deleteRevocation', revocation: orphan },
    ]);
    const after = applyPlan(ring, plan);
    expect(after.keys).toEqual([old2, cur]);
    expect(mostRecentMassRevocation(after)).toBe(NOW - 300 * DAY);
    expect(defaultKeyAt(after, NOW)).toBe(ID.current);

    // Retention 0 on a ring whose only key is the (unexpired) default: nothing to delete.
    expect(planRotation(ringOf([cur]), NOW, { ...DEFAULT_POLICY, retention: 0 }).changes).toEqual([]);
  });
});

describe('planRevocation: table', () => {
  it('revoking the default key: the revocation plus a replacement key active now', () => {
    const ring = ringOf([current(60 * DAY)]);
    const plan = planRevocation(ring, NOW, DEFAULT_POLICY, { keyId: ID.current, reason: 'compromised' });
    expect(plan.changes[0]).toEqual({ kind: 'revoke', keyId: ID.current, revocationDate: NOW, reason: 'compromised' });
    const created = createdKeys(plan);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ reason: 'replacement', dates: { creationDate: NOW, activationDate: NOW, expirationDate: NOW + 90 * DAY } });
    expect(plan.warnings).toEqual([]);
    const after = applyPlan(ring, plan);
    // 10.0.12 prefers the most recent activation: the replacement is the default at once (no fallback needed).
    expect(resolve(after, NOW)).toEqual({ defaultKey: expect.objectContaining({ id: created[0]!.id }) });
    expect(defaultKeyAt(after, NOW + 2 * DAY)).toBe(created[0]!.id);
    expect(defaultKeyAt(after, NOW + 14 * DAY)).toBe(created[0]!.id);
  });

  it('revoking a key that is not the default: the revocation only', () => {
    const ring = ringOf([current(60 * DAY), keyEntry(ID.older, NOW - 200 * DAY, NOW - 200 * DAY, NOW - 110 * DAY)]);
    const plan = planRevocation(ring, NOW, DEFAULT_POLICY, { keyId: ID.older });
    expect(plan.changes).toEqual([{ kind: 'revoke', keyId: ID.older, revocationDate: NOW, reason: '' }]);
  });

  it('revoking an unknown key: PolicyError("unknown_key")', () => {
    const ring = ringOf([current(60 * DAY)]);
    expect(() => planRevocation(ring, NOW, DEFAULT_POLICY, { keyId: ID.other })).toThrowError(expect.objectContaining({ code: 'unknown_key' }));
    expect(() => planRevocation(ring, NOW, DEFAULT_POLICY, { keyId: ID.other })).toThrow(PolicyError);
  });

  it('revoking an already revoked key: no change (single or mass revocation)', () => {
    const single = ringOf([current(60 * DAY), keyEntry(ID.older, NOW - 10 * DAY, NOW - 10 * DAY, NOW + 80 * DAY)], [revocation(ID.older, NOW - DAY)]);
    expect(planRevocation(single, NOW, DEFAULT_POLICY, { keyId: ID.older })).toEqual({ changes: [], warnings: [] });
    const mass = ringOf([keyEntry(ID.older, NOW - 10 * DAY, NOW - 10 * DAY, NOW + 80 * DAY), current(60 * DAY, 1 * DAY)], [revocation(REVOKE_ALL, NOW - 5 * DAY)]);
    expect(planRevocation(mass, NOW, DEFAULT_POLICY, { keyId: ID.older })).toEqual({ changes: [], warnings: [] });
  });

  it('revoke all: a "*" revocation dated now and a replacement key created at/after it (not itself revoked)', () => {
    const ring = ringOf([current(60 * DAY), keyEntry(ID.successor, NOW - DAY, NOW + 60 * DAY, NOW + 150 * DAY)]);
    const plan = planRevocation(ring, NOW, DEFAULT_POLICY, { all: true, reason: 'breach' });
    expect(plan.changes[0]).toEqual({ kind: 'revoke', keyId: REVOKE_ALL, revocationDate: NOW, reason: 'breach' });
    const created = createdKeys(plan);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created[0]!.reason).toBe('replacement');
    const after = applyPlan(ring, plan);
    for (const c of created) {
      expect(c.dates.creationDate).toBeGreaterThanOrEqual(NOW);
      expect(isRevoked(after, { id: c.id, creationDate: c.dates.creationDate })).toBe(false);
    }
    expect(isRevoked(after, ring.keys[0]!)).toBe(true);
    expect(isRevoked(after, ring.keys[1]!)).toBe(true);
    // 10.0.12: the replacement (latest activation) is the default at once, until the horizon.
    expect(created).toHaveLength(1);
    expect(created[0]!.dates.activationDate).toBe(NOW);
    for (const t of [NOW, NOW + 2 * DAY, NOW + 14 * DAY]) expect(defaultKeyAt(after, t)).toBe(created[0]!.id);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random rings, clocks and settings.
// ---------------------------------------------------------------------------------------------

type Outcome = { plan: RingPlan; error?: undefined } | { plan?: undefined; error: unknown };

function tryPlan(ring: KeyRing, now: number, settings: PolicySettings, request = {}): Outcome {
  try {
    return { plan: planRotation(ring, now, settings, request) };
  } catch (error) {
    return { error };
  }
}

const arbRequest = fc.oneof({ arbitrary: fc.constant({}), weight: 4 }, { arbitrary: fc.constant({ force: true }), weight: 1 }, { arbitrary: fc.constant({ force: true, immediate: true }), weight: 1 });

function describeSpec(spec: RingSpec, settings: PolicySettings): string {
  const d = (ms: number) => `${(ms / DAY).toFixed(4)}d`;
  return JSON.stringify({
    now: new Date(spec.now).toISOString(),
    settings: { keyLifetime: d(settings.keyLifetime), renewBefore: d(settings.renewBefore), retention: settings.retention === undefined ? undefined : d(settings.retention) },
    keys: spec.keys.map((k) => ({ id: k.id, created: d(k.created), activation: d(k.created + k.activationDelay), expiration: d(k.created + k.activationDelay + k.lifetime), revoked: k.revoked })),
    mass: spec.massRevocations.map(d),
  });
}

const FAST = { numRuns: 300 };

describe('planRotation: properties', () => {
  it('P1: after a run a valid default key resolves at every instant of [now + 2 d, now + renewBefore] (of [now, …] when the run warns of nothing)', () => {
    fc.assert(
      fc.property(arbRingSpec(), arbSettings(), arbRequest, arbFractions, (spec, settings, request, fractions) => {
        const ring = buildRing(spec);
        const outcome = tryPlan(ring, spec.now, settings, request);
        if (!outcome.plan) return;
        const after = applyPlan(ring, outcome.plan);
        const keys = resolvableKeys(after);
        // 10.0.12 makes a key active now the default at once: a run that warns of nothing leaves no gap
        // at all; otherwise a late successor may leave one before now + 2 d (and says so).
        const from = outcome.plan.warnings.length === 0 ? spec.now : spec.now + KEY_PROPAGATION_WINDOW;
        const to = spec.now + settings.renewBefore;
        for (const t of instantsIn(resolutionBoundaries(keys, from, to), fractions, from, to)) {
          const d = resolveDefaultKey(keys, t).defaultKey;
          expect(d, `no default at now + ${((t - spec.now) / DAY).toFixed(4)} d`).toBeDefined();
          expect(d!.revoked).toBe(false);
          expect(d!.expirationDate).toBeGreaterThan(t);
        }
      }),
      FAST,
    );
  });

  it('P2: after a run apps with generation disabled have a key (default or fallback) at every instant of [now, now + renewBefore]', () => {
    fc.assert(
      fc.property(arbRingSpec(), arbSettings(), arbRequest, arbFractions, (spec, settings, request, fractions) => {
        const ring = buildRing(spec);
        const outcome = tryPlan(ring, spec.now, settings, request);
        if (!outcome.plan) return;
        const keys = resolvableKeys(applyPlan(ring, outcome.plan));
        const from = spec.now;
        const to = spec.now + settings.renewBefore;
        for (const t of instantsIn(resolutionBoundaries(keys, from, to), fractions, from, to)) {
          const r = resolveDefaultKey(keys, t);
          const usable = r.defaultKey ?? r.fallbackKey;
          expect(usable, `nothing usable at now + ${((t - spec.now) / DAY).toFixed(4)} d`).toBeDefined();
          expect(usable!.revoked).toBe(false);
        }
      }),
      FAST,
    );
  });

  it('P3: created keys are dated now, live keyLifetime, and activate after the propagation window unless bootstrap/replacement/immediate', () => {
    fc.assert(
      fc.property(arbRingSpec(), arbSettings(), arbRequest, (spec, settings, request) => {
        const outcome = tryPlan(buildRing(spec), spec.now, settings, request);
        if (!outcome.plan) return;
        for (const c of createdKeys(outcome.plan)) {
          expect(c.dates.creationDate).toBe(spec.now);
          expect(c.dates.expirationDate - c.dates.activationDate).toBe(settings.keyLifetime);
          const early = c.reason === 'bootstrap' || c.reason === 'replacement' || (c.reason === 'forced' && 'immediate' in request);
          if (!early) expect(c.dates.activationDate).toBeGreaterThanOrEqual(c.dates.creationDate + KEY_PROPAGATION_WINDOW);
          else expect(c.dates.activationDate).toBeGreaterThanOrEqual(c.dates.creationDate);
        }
        if (!('force' in request)) expect(createdKeys(outcome.plan).every((c) => c.reason !== 'forced')).toBe(true);
      }),
      FAST,
    );
  });

  it('P4: nothing is lost: no deletions without retention; with retention only keys expired before now − retention (and their revocations)', () => {
    fc.assert(
      fc.property(arbRingSpec(), arbSettings(), (spec, settings) => {
        const ring = buildRing(spec);
        const outcome = tryPlan(ring, spec.now, settings);
        if (!outcome.plan) return;
        const deletions = outcome.plan.changes.filter((c) => c.kind === 'deleteKey' || c.kind === 'deleteRevocation');
        if (settings.retention === undefined) {
          expect(deletions).toEqual([]);
          return;
        }
        const cutoff = spec.now - settings.retention;
        const deletedIds = new Set<string>();
        for (const c of outcome.plan.changes) {
          if (c.kind !== 'deleteKey') continue;
          expect(c.key.expirationDate).toBeLessThan(cutoff);
          deletedIds.add(c.key.id);
        }
        // Every key expired before the cutoff is deleted.
        expect([...deletedIds].sort()).toEqual(
          ring.keys
            .filter((k) => k.expirationDate < cutoff)
            .map((k) => k.id)
            .sort(),
        );
        // The default key now is never deleted.
        const d = defaultKeyAt(ring, spec.now);
        if (d) expect(deletedIds.has(d)).toBe(false);
        // Revocations go only when their key is gone or they are a superseded mass revocation; the
        // revocation state of every remaining key is unchanged.
        const after = applyPlan(ring, outcome.plan);
        const remainingIds = new Set(after.keys.map((k) => k.id));
        for (const c of outcome.plan.changes) {
          if (c.kind !== 'deleteRevocation') continue;
          const r = c.revocation;
          if (r.keyId === REVOKE_ALL) expect(r.revocationDate).toBeLessThan(mostRecentMassRevocation(ring)!);
          else expect(remainingIds.has(r.keyId)).toBe(false);
        }
        for (const k of ring.keys) if (remainingIds.has(k.id)) expect(isRevoked(after, k)).toBe(isRevoked(ring, k));
      }),
      FAST,
    );
  });

  it('P5: idempotence: planning again on the resulting ring at the same now creates no key', () => {
    fc.assert(
      fc.property(arbRingSpec(), arbSettings(), (spec, settings) => {
        const ring = buildRing(spec);
        const outcome = tryPlan(ring, spec.now, settings);
        if (!outcome.plan) return;
        const after = applyPlan(ring, outcome.plan);
        const again = planRotation(after, spec.now, settings);
        expect(createdKeys(again), describeSpec(spec, settings)).toEqual([]);
      }),
      FAST,
    );
  });

  it('P7: planRotation returns a plan, or throws PolicyError("unsatisfiable") only when a mass revocation is dated after now', () => {
    fc.assert(
      fc.property(arbRingSpec({ futureMass: true }), arbSettings(), arbRequest, (spec, settings, request) => {
        const ring = buildRing(spec);
        const outcome = tryPlan(ring, spec.now, settings, request);
        if (outcome.plan) return;
        expect(outcome.error).toBeInstanceOf(PolicyError);
        expect((outcome.error as PolicyError).code).toBe('unsatisfiable');
        const mass = mostRecentMassRevocation(ring);
        expect(mass !== undefined && mass > spec.now, `${String(outcome.error)} for ${describeSpec(spec, settings)}`).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('P6: healthy chains: timer runs every 1 min–6 h for ~120 days from an empty ring keep a valid default over [now, now + renewBefore]', () => {
    const HORIZON = 120 * DAY;
    const MAX_RUNS = 5000;
    fc.assert(
      fc.property(
        fc.noBias(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })),
        arbSettings(),
        fc.array(fc.noBias(fc.integer({ min: 1, max: 360 })), { minLength: 16, maxLength: 64 }),
        (t0, settings, stepMinutes) => {
          let ring: KeyRing = ringOf();
          let now = t0;
          for (let run = 0; run < MAX_RUNS && now <= t0 + HORIZON; run++) {
            const plan = planRotation(ring, now, settings);
            for (const c of createdKeys(plan)) {
              if (run === 0) expect(c.reason).toBe('bootstrap');
              else
                expect(c.dates.activationDate, `run ${run} at t0 + ${((now - t0) / DAY).toFixed(4)} d created an early key (${c.reason})`).toBeGreaterThanOrEqual(
                  c.dates.creationDate + KEY_PROPAGATION_WINDOW,
                );
            }
            if (run > 0) expect(plan.warnings, `run ${run} at t0 + ${((now - t0) / DAY).toFixed(4)} d`).toEqual([]);
            ring = applyPlan(ring, plan);
            const keys = resolvableKeys(ring);
            const to = now + settings.renewBefore;
            for (const t of resolutionBoundaries(keys, now, to)) {
              const d = resolveDefaultKey(keys, t).defaultKey;
              expect(d, `run ${run}: no default at t0 + ${((t - t0) / DAY).toFixed(4)} d`).toBeDefined();
              expect(d!.revoked || d!.expirationDate <= t).toBe(false);
            }
            now += stepMinutes[run % stepMinutes.length]! * MINUTE;
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
