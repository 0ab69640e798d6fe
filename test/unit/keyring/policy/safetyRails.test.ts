import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY } from '../../../../shared/keyring/dotnetDate';
import { isRevoked, mostRecentMassRevocation, REVOKE_ALL } from '../../../../shared/keyring/KeyRing';
import { ringStatus } from '../../../../shared/keyring/keyRingStatus';
import { DEFAULT_POLICY, defaultKeyAt, MASS_REVOCATION_MARGIN, planRepair, planRevocation, planRotation, PolicyError, reasonProblem } from '../../../../shared/keyring/policy/RotationPolicy';
import { applyPlan, arbRingSpec, arbSettings, buildRing, createdKeys, keyEntry, revocation, ringOf } from './ringArbitraries';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const DRILL = Date.parse('2030-01-01T00:00:00Z');
const A = '80000000-0000-4000-8000-000000000001';
const B = '80000000-0000-4000-8000-000000000002';

/** A healthy ring: one propagated key with 60 days left. */
const healthy = () => ringOf([keyEntry(A, NOW - 30 * DAY, NOW - 30 * DAY, NOW + 60 * DAY)]);

/** What `revoke --all --now 2030-01-01T00:00:00Z` wrote on main: a 2030 mass revocation and a key created then. */
function drilled() {
  const ring = healthy();
  return applyPlan(ring, planRevocation(ring, DRILL, DEFAULT_POLICY, { all: true, reason: 'drill' }));
}

describe('#11 item 7: margin between a mass revocation and its replacement key', () => {
  it('creates the replacement at least 1 s after the revocation date, and it is not revoked', () => {
    const plan = planRevocation(healthy(), NOW, DEFAULT_POLICY, { all: true });
    const [key] = createdKeys(plan);
    expect(MASS_REVOCATION_MARGIN).toBeGreaterThanOrEqual(1000);
    expect(key!.dates.creationDate - NOW).toBeGreaterThanOrEqual(1000);
    // Still active at once: apps need a default key now.
    expect(key!.dates.activationDate).toBe(NOW);
    expect(isRevoked(applyPlan(healthy(), plan), { id: key!.id, creationDate: key!.dates.creationDate })).toBe(false);
  });
});

describe('#11 item 1: a drilled ring', () => {
  it('was unrepairable by rotate --force --immediate (the reproduction), with a message naming repair', () => {
    expect(() => planRotation(drilled(), NOW, DEFAULT_POLICY, { force: true, immediate: true })).toThrow(PolicyError);
    expect(() => planRotation(drilled(), NOW, DEFAULT_POLICY, { force: true, immediate: true })).toThrow(/ringkeeper repair/);
  });

  it('is critical in status, never only a warning', () => {
    const s = ringStatus(drilled(), NOW, DEFAULT_POLICY, 'rsa');
    expect(s.health).toBe('critical');
    expect(s.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['future_mass_revocation', 'rotation_blocked']));
  });

  it('repair re-dates the mass revocation to now, revokes the key created in the future and restores a usable default key now', () => {
    const ring = drilled();
    const plan = planRepair(ring, NOW, DEFAULT_POLICY);
    const after = applyPlan(ring, plan);
    expect(mostRecentMassRevocation(after)).toBe(NOW);
    expect(after.revocations.some((r) => r.keyId === REVOKE_ALL && r.revocationDate === DRILL)).toBe(false);
    // Every key that exists now stays revoked, as apps see it today.
    for (const key of ring.keys) expect(isRevoked(after, key)).toBe(true);
    const key = defaultKeyAt(after, NOW);
    expect(key).toBeDefined();
    expect(createdKeys(plan).map((k) => k.id)).toContain(key);
    for (const t of [NOW, NOW + 2 * DAY, NOW + 14 * DAY]) expect(defaultKeyAt(after, t)).toBe(key);
    const s = ringStatus(after, NOW, DEFAULT_POLICY, 'rsa');
    expect(s.problems.filter((p) => p.severity === 'critical')).toEqual([]);
  });

  it('repair of a healthy ring changes nothing', () => {
    expect(planRepair(healthy(), NOW, DEFAULT_POLICY).changes).toEqual([]);
  });

  it('repair brings back a usable default key for any ring, any clock, any future mass revocation (property)', () => {
    fc.assert(
      fc.property(arbRingSpec({ futureMass: true }), arbSettings(), (spec, settings) => {
        const ring = buildRing(spec);
        const after = applyPlan(ring, planRepair(ring, spec.now, settings));
        expect(defaultKeyAt(after, spec.now)).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });
});

describe('#11 item 3: revocation reasons are bounded', () => {
  it.each([
    ['a 1 MiB reason', 'x'.repeat(1 << 20), /is 1048576 characters long; at most 500/],
    ['a newline', 'a\nb', /control character U\+000A at position 1/],
    ['NUL', 'a\u0000', /U\+0000/],
  ])('refuses %s', (_label, reason, message) => {
    expect(reasonProblem(reason)).toMatch(message);
    expect(() => planRevocation(healthy(), NOW, DEFAULT_POLICY, { keyId: A, reason })).toThrow(message);
  });

  it('accepts 500 characters of any script', () => {
    expect(reasonProblem('é'.repeat(500))).toBeUndefined();
  });
});

describe('#11 item 5: one truth between status and rotate', () => {
  it('the reproduction: after rotate --force and revoke --all, status and rotate agree', () => {
    let ring = healthy();
    ring = applyPlan(ring, planRotation(ring, NOW, DEFAULT_POLICY, { force: true }));
    ring = applyPlan(ring, planRevocation(ring, NOW + 60_000, DEFAULT_POLICY, { all: true }));
    const at = NOW + 5 * 60_000;
    const s = ringStatus(ring, at, DEFAULT_POLICY, 'rsa');
    const plan = planRotation(ring, at, DEFAULT_POLICY);
    expect(s.problems.some((p) => p.code === 'rotation_due')).toBe(plan.changes.some((c) => c.kind === 'createKey'));
    for (const warning of plan.warnings) expect(s.problems.map((p) => p.message)).toContain(`the next rotation run warns: ${warning}`);
  });

  it('whenever status promises a write, rotate makes it, and only then (property)', () => {
    fc.assert(
      fc.property(arbRingSpec({ futureMass: true }), arbSettings({ retention: true }), (spec, settings) => {
        const ring = buildRing(spec);
        const s = ringStatus(ring, spec.now, settings, 'rsa');
        const promised = s.problems.find((p) => p.code === 'rotation_due');
        let writes: number;
        try {
          writes = createdKeys(planRotation(ring, spec.now, settings)).length;
        } catch {
          expect(s.problems.some((p) => p.code === 'rotation_blocked')).toBe(true);
          return;
        }
        expect(promised !== undefined).toBe(writes > 0);
      }),
      { numRuns: 500 },
    );
  });

  it('a single revoked key with a revocation of B only does not confuse the planner', () => {
    const ring = ringOf([keyEntry(A, NOW - 30 * DAY, NOW - 30 * DAY, NOW + 60 * DAY), keyEntry(B, NOW - DAY, NOW + 60 * DAY, NOW + 150 * DAY)], [revocation(B, NOW)]);
    const s = ringStatus(ring, NOW, DEFAULT_POLICY, 'rsa');
    expect(s.problems.some((p) => p.code === 'rotation_due')).toBe(createdKeys(planRotation(ring, NOW, DEFAULT_POLICY)).length > 0);
  });
});
