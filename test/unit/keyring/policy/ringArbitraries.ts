import fc from 'fast-check';
import { DAY, HOUR, MINUTE } from '../../../../shared/keyring/dotnetDate';
import { REVOKE_ALL, type KeyEntry, type KeyRing, type RevocationEntry } from '../../../../shared/keyring/KeyRing';
import type { ResolvableKey } from '../../../../shared/keyring/policy/DefaultKeyResolver';
import type { PlannedChange, PolicySettings, RingPlan } from '../../../../shared/keyring/policy/RotationPolicy';

// ---------------------------------------------------------------------------------------------
// Builders and plan application shared by the policy tests.
// ---------------------------------------------------------------------------------------------

export function keyEntry(id: string, creationDate: number, activationDate: number, expirationDate: number): KeyEntry {
  return { id, creationDate, activationDate, expirationDate, protection: 'rsa', element: undefined as never };
}

export function revocation(keyId: string, revocationDate: number, reason = ''): RevocationEntry {
  return { keyId, revocationDate, reason, element: undefined as never };
}

export function ringOf(keys: KeyEntry[] = [], revocations: RevocationEntry[] = []): KeyRing {
  return { keys, revocations };
}

/** The ring once a plan is written: additions appended, deletions (by identity) filtered out. */
export function applyPlan(ring: KeyRing, plan: RingPlan): KeyRing {
  const deletedKeys = new Set<KeyEntry>();
  const deletedRevocations = new Set<RevocationEntry>();
  const keys: KeyEntry[] = [];
  const revocations: RevocationEntry[] = [];
  for (const c of plan.changes) {
    if (c.kind === 'createKey') keys.push(keyEntry(c.id, c.dates.creationDate, c.dates.activationDate, c.dates.expirationDate));
    else if (c.kind === 'revoke') revocations.push(revocation(c.keyId, c.revocationDate, c.reason));
    else if (c.kind === 'deleteKey') deletedKeys.add(c.key);
    else deletedRevocations.add(c.revocation);
  }
  return {
    keys: [...ring.keys.filter((k) => !deletedKeys.has(k)), ...keys],
    revocations: [...ring.revocations.filter((r) => !deletedRevocations.has(r)), ...revocations],
  };
}

export type CreateKeyChange = Extract<PlannedChange, { kind: 'createKey' }>;

export function createdKeys(plan: RingPlan): CreateKeyChange[] {
  return plan.changes.filter((c): c is CreateKeyChange => c.kind === 'createKey');
}

/** A ResolvableKey for the resolver tables. */
export function rk(id: string, creationDate: number, activationDate: number, expirationDate: number, revoked = false): ResolvableKey {
  return { id, creationDate, activationDate, expirationDate, revoked };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.
// ---------------------------------------------------------------------------------------------

/** A clock between 2000 and 2100, on whole minutes half of the time (ties are interesting). */
export const arbNow: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: Date.UTC(2000, 0, 1) / MINUTE, max: Date.UTC(2100, 0, 1) / MINUTE }).map((m) => m * MINUTE),
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
);

/** Offsets that sit on the resolver's and the policy's edges. */
const edgeOffsets = [0, 1, -1, 5 * MINUTE, -5 * MINUTE, 2 * DAY, -2 * DAY, 2 * DAY + 1, 2 * DAY - 1, 3 * DAY, 14 * DAY, -14 * DAY, 90 * DAY, -90 * DAY];

/** An offset from now: an edge, whole minutes up to ±400 days, or any ms up to ±120 days. */
export const arbOffset: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constantFrom(...edgeOffsets), weight: 2 },
  { arbitrary: fc.integer({ min: -400 * 24 * 60, max: 400 * 24 * 60 }).map((m) => m * MINUTE), weight: 3 },
  { arbitrary: fc.integer({ min: -120 * DAY, max: 120 * DAY }), weight: 1 },
);

/** A lifetime: mostly realistic, sometimes degenerate (zero or negative: expiration before activation). */
const arbLifetime: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 7, max: 365 }).map((d) => d * DAY), weight: 4 },
  { arbitrary: fc.integer({ min: -3 * DAY, max: 30 * DAY }), weight: 1 },
);

export interface KeySpec {
  id: string;
  /** Offsets from now. */
  created: number;
  /** Offset from creation (usually >= 0). */
  activationDelay: number;
  lifetime: number;
  revoked: boolean;
  revokedAt: number;
}

const arbKeySpec: fc.Arbitrary<Omit<KeySpec, 'id'>> = fc.record({
  created: fc.oneof({ arbitrary: arbOffset.map((o) => -Math.abs(o)), weight: 4 }, { arbitrary: arbOffset, weight: 1 }),
  activationDelay: fc.oneof({ arbitrary: fc.constantFrom(0, 2 * DAY, 5 * MINUTE), weight: 2 }, { arbitrary: arbOffset.map(Math.abs), weight: 2 }, { arbitrary: arbOffset, weight: 1 }),
  lifetime: arbLifetime,
  revoked: fc.boolean(),
  revokedAt: arbOffset,
});

export interface RingSpec {
  now: number;
  keys: KeySpec[];
  /** Offsets from now of '*' revocations. */
  massRevocations: number[];
  /** Single-key revocations of keys that are not in the ring (left over after a deletion). */
  orphanRevocations: string[];
}

/**
 * Random rings: 0–8 keys with random dates around a random now (mostly created in the past, some in
 * the future, some expired, some degenerate), single revocations, and 0–2 mass revocations (in the
 * future only when `futureMass`).
 */
export function arbRingSpec(options: { futureMass?: boolean } = {}): fc.Arbitrary<RingSpec> {
  const massOffset = options.futureMass ? fc.oneof({ arbitrary: arbOffset.map((o) => -Math.abs(o)), weight: 4 }, { arbitrary: arbOffset, weight: 1 }) : arbOffset.map((o) => -Math.abs(o));
  return fc.record({
    now: arbNow,
    keys: fc.uniqueArray(fc.tuple(fc.uuid(), arbKeySpec), { minLength: 0, maxLength: 8, selector: ([id]) => id }).map((ks) => ks.map(([id, spec]) => ({ id, ...spec }))),
    massRevocations: fc.array(massOffset, { maxLength: 2 }),
    orphanRevocations: fc.array(fc.uuid(), { maxLength: 1 }),
  });
}

export function buildRing(spec: RingSpec): KeyRing {
  const { now } = spec;
  const keys = spec.keys.map((k) => {
    const creation = now + k.created;
    const activation = creation + k.activationDelay;
    return keyEntry(k.id, creation, activation, activation + k.lifetime);
  });
  const revocations = [
    ...spec.keys.filter((k) => k.revoked).map((k) => revocation(k.id, now + k.revokedAt, 'test')),
    ...spec.massRevocations.map((o) => revocation(REVOKE_ALL, now + o, 'test')),
    ...spec.orphanRevocations.map((id) => revocation(id, now - 500 * DAY, 'orphan')),
  ];
  return ringOf(keys, revocations);
}

/** Random policy settings: keyLifetime 7–365 days, renewBefore 3 days–(lifetime − 1 day), optional retention. */
export function arbSettings(options: { retention?: boolean } = {}): fc.Arbitrary<PolicySettings> {
  return fc
    .integer({ min: 7 * 24, max: 365 * 24 })
    .chain((lifetimeHours) =>
      fc.record({
        keyLifetime: fc.constant(lifetimeHours * HOUR),
        renewBefore: fc.integer({ min: 3 * 24, max: lifetimeHours - 24 }).map((h) => h * HOUR),
        retention:
          options.retention === false
            ? fc.constant(undefined)
            : fc.option(
                fc.integer({ min: 0, max: 120 }).map((d) => d * DAY),
                { nil: undefined },
              ),
      }),
    )
    .map((s) => (s.retention === undefined ? { keyLifetime: s.keyLifetime, renewBefore: s.renewBefore } : s));
}

/** Random resolvable keys around a given now, for the resolver's own properties. */
export function arbResolvableKeys(maxLength = 8): fc.Arbitrary<{ now: number; keys: ResolvableKey[] }> {
  return fc
    .record({
      now: arbNow,
      specs: fc.uniqueArray(fc.tuple(fc.uuid(), arbKeySpec), { maxLength, selector: ([id]) => id }),
    })
    .map(({ now, specs }) => ({
      now,
      keys: specs.map(([id, k]) => {
        const creation = now + k.created;
        const activation = creation + k.activationDelay;
        return rk(id, creation, activation, activation + k.lifetime, k.revoked);
      }),
    }));
}

/** Every instant in [from, to] worth checking: the given boundaries plus random points (fractions of the span). */
export function instantsIn(boundaries: number[], fractions: number[], from: number, to: number): number[] {
  return [...boundaries, ...fractions.map((f) => from + Math.floor(f * (to - from))), to].filter((t) => t >= from && t <= to);
}

export const arbFractions: fc.Arbitrary<number[]> = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 });
