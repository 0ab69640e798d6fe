import { DAY, formatDotnetDate } from '../dotnetDate';
import { isRevoked, mostRecentMassRevocation, revocationTest, REVOKE_ALL, type KeyEntry, type KeyRing, type RevocationEntry } from '../KeyRing';
import { newKeyId } from '../guid';
import type { NewKeyDates } from '../KeyXmlWriter';
import { compareKeyIds, firstGap, KEY_PROPAGATION_WINDOW, MAX_SERVER_CLOCK_SKEW, preferredKey, resolutionBoundaries, resolveDefaultKey, type ResolvableKey } from './DefaultKeyResolver';

export interface PolicySettings {
  keyLifetime: number;
  renewBefore: number;
  /** Delete keys expired longer ago than this; undefined = keep every key. */
  retention?: number;
}

export const DEFAULT_POLICY: PolicySettings = { keyLifetime: 90 * DAY, renewBefore: 14 * DAY };
/** A successor must be written at least this long before the current key expires (KeyRingProvider's 24 h + 48 h). */
export const MIN_RENEW_BEFORE = 3 * DAY;
export const MIN_KEY_LIFETIME = 7 * DAY;

export type NewKeyReason = 'bootstrap' | 'successor' | 'forced' | 'replacement';

/**
 * A replacement key written with a mass revocation is created this long after it. XmlKeyManager
 * revokes keys created strictly before the date, so an equal timestamp would survive only by the
 * strictness of one comparison (and by both clocks agreeing to the millisecond).
 */
export const MASS_REVOCATION_MARGIN = 1000;

/** Longest revocation reason accepted: every app downloads the whole ring. */
export const MAX_REASON_LENGTH = 500;

export type PlannedChange =
  | { kind: 'createKey'; id: string; dates: NewKeyDates; reason: NewKeyReason }
  | { kind: 'revoke'; keyId: string; revocationDate: number; reason: string }
  | { kind: 'deleteKey'; key: KeyEntry }
  | { kind: 'deleteRevocation'; revocation: RevocationEntry };

export interface RingPlan {
  changes: PlannedChange[];
  warnings: string[];
}

export interface RotateRequest {
  /** Write a new key even though the ring is healthy. */
  force?: boolean;
  /** With force: activate now instead of after the propagation window (emergencies). */
  immediate?: boolean;
}

export type RevokeRequest = { keyId: string; reason?: string } | { all: true; reason?: string };

/** A request the ring cannot satisfy (unknown key, a future mass revocation, ...). */
export class PolicyError extends Error {
  constructor(
    readonly code: 'unknown_key' | 'unsatisfiable' | 'invalid_reason',
    message: string,
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The keys of a ring as the resolver sees them, with revocation applied. */
export function resolvableKeys(ring: KeyRing): ResolvableKey[] {
  const revoked = revocationTest(ring);
  return ring.keys.map((k) => ({ id: k.id, creationDate: k.creationDate, activationDate: k.activationDate, expirationDate: k.expirationDate, revoked: revoked(k) }));
}

/**
 * Rotation (pure): keeps a valid default key resolvable now and over the next `renewBefore`,
 * writing successors long before they activate, and applies retention when configured.
 */
export function planRotation(ring: KeyRing, now: number, settings: PolicySettings, request: RotateRequest = {}): RingPlan {
  const plan: RingPlan = { changes: [], warnings: [] };
  if (request.force) {
    const activation = request.immediate ? now : now + KEY_PROPAGATION_WINDOW;
    addKey(plan, ring, now, activation, settings, 'forced');
    if (request.immediate) plan.warnings.push(immediateWarning(now));
  }
  ensureCoverage(plan, ring, now, settings);
  applyRetention(plan, ring, now, settings);
  return plan;
}

/** Revocation (pure): revokes one key or all keys created before now, then restores a valid default. */
export function planRevocation(ring: KeyRing, now: number, settings: PolicySettings, request: RevokeRequest): RingPlan {
  const plan: RingPlan = { changes: [], warnings: [] };
  const reason = request.reason ?? '';
  const problem = reasonProblem(reason);
  if (problem) throw new PolicyError('invalid_reason', `the revocation reason ${problem}`);
  if ('all' in request) {
    plan.changes.push({ kind: 'revoke', keyId: REVOKE_ALL, revocationDate: now, reason });
  } else {
    const key = ring.keys.find((k) => k.id === request.keyId);
    if (!key) throw new PolicyError('unknown_key', `the key {${request.keyId}} is not in the key ring`);
    if (!isRevoked(ring, key)) plan.changes.push({ kind: 'revoke', keyId: key.id, revocationDate: now, reason });
  }
  if (plan.changes.length > 0) ensureCoverage(plan, ring, now, settings);
  return plan;
}

/** The ring as it will be once the plan's additions are written (deletions ignored: they only touch long-expired keys). */
export function ringAfter(ring: KeyRing, plan: RingPlan): ResolvableKey[] {
  const created = plan.changes.flatMap((c): KeyEntry[] => (c.kind === 'createKey' ? [{ id: c.id, ...c.dates, protection: 'unknown', element: undefined as never }] : []));
  const next: KeyRing = { keys: [...ring.keys, ...created], revocations: ringAfterRevocations(ring, plan) };
  return resolvableKeys(next);
}

function ensureCoverage(plan: RingPlan, ring: KeyRing, now: number, settings: PolicySettings): void {
  const horizon = now + settings.renewBefore;
  // A successor must not activate before every instance can have seen it.
  const earliestSuccessor = now + KEY_PROPAGATION_WINDOW;
  const revoking = plan.changes.some((c) => c.kind === 'revoke');
  let from = now;
  // Each round closes one gap; revoked keys that activate later in the window can each open one.
  for (let round = 0; round < ring.keys.length + 4; round++) {
    const keys = ringAfter(ring, plan);
    const gap = firstGap(keys, from, horizon);
    if (gap === undefined) return;
    // The resolver looks only at the most recently activated key: a new key must activate no
    // earlier than the unusable one it has to beat (a tie goes to the lower id, see addKey).
    const rival = preferredKey(keys, gap);
    const activation = Math.max(gap, rival?.activationDate ?? gap);
    if (gap === now) {
      addKey(plan, ring, now, activation, settings, revoking ? 'replacement' : 'bootstrap');
      if (!revoking) {
        plan.warnings.push(`no usable default key existed: a key active now was written; apps started before ${formatDotnetDate(now)} may not see it until their next key ring refresh (up to 24 h)`);
      }
      continue;
    }
    // A gap before the earliest allowed activation cannot be closed now. If a key already in the
    // ring (from an earlier late run) closes it by then, nothing is gained by writing another one.
    const closedBy = firstCovered(keys, gap, horizon);
    if (closedBy !== undefined && closedBy <= earliestSuccessor) {
      plan.warnings.push(lateWarning(keys, gap, `until ${formatDotnetDate(closedBy)}, when a successor written earlier activates`));
      from = closedBy;
      continue;
    }
    const successorActivation = Math.max(activation, earliestSuccessor);
    addKey(plan, ring, now, successorActivation, settings, 'successor');
    if (successorActivation > gap) {
      plan.warnings.push(lateWarning(ringAfter(ring, plan), gap, `until it activates at ${formatDotnetDate(successorActivation)}`));
      from = successorActivation;
    }
  }
  const mass = mostRecentMassRevocation({ keys: [], revocations: ringAfterRevocations(ring, plan) });
  throw new PolicyError(
    'unsatisfiable',
    mass !== undefined && mass > now
      ? `a revocation of all keys dated ${formatDotnetDate(mass)} (in the future) revokes every key created before it; no usable key can be written until then (\`ringkeeper repair\` re-dates it to now and writes a usable key)`
      : 'no key this run can write would resolve as the default key',
  );
}

/** The first instant in [from, to] at which a valid default key resolves, if any. */
function firstCovered(keys: readonly ResolvableKey[], from: number, to: number): number | undefined {
  return resolutionBoundaries(keys, from, to).find((t) => resolveDefaultKey(keys, t).defaultKey);
}

function lateWarning(keys: readonly ResolvableKey[], gap: number, until: string): string {
  const fallback = resolveDefaultKey(keys, gap).fallbackKey;
  return (
    `the successor was written late: no key is the default from ${formatDotnetDate(gap)} ${until} ` +
    `(new keys need ${KEY_PROPAGATION_WINDOW / DAY} days to propagate); ` +
    (fallback ? `apps with key generation disabled fall back to key {${fallback.id}}` : 'apps have no fallback key')
  );
}

function ringAfterRevocations(ring: KeyRing, plan: RingPlan): RevocationEntry[] {
  const added = plan.changes.flatMap((c) => (c.kind === 'revoke' ? [{ keyId: c.keyId, revocationDate: c.revocationDate, reason: c.reason, element: undefined as never }] : []));
  return [...ring.revocations, ...added];
}

function addKey(plan: RingPlan, ring: KeyRing, now: number, activation: number, settings: PolicySettings, reason: NewKeyReason): void {
  const competitors = ringAfter(ring, plan).filter((k) => k.activationDate === activation);
  const revokesAllNow = plan.changes.some((c) => c.kind === 'revoke' && c.keyId === REVOKE_ALL && c.revocationDate >= now);
  plan.changes.push({
    kind: 'createKey',
    id: idSortingBefore(competitors.map((k) => k.id)),
    // Expiry counts from activation (ASP.NET Core's own keys: from creation) so a successor written
    // early still serves a full lifetime as the default.
    dates: { creationDate: revokesAllNow ? now + MASS_REVOCATION_MARGIN : now, activationDate: activation, expirationDate: activation + settings.keyLifetime },
    reason,
  });
}

/** Why a revocation reason cannot be written, if it cannot. */
export function reasonProblem(reason: string): string | undefined {
  if (reason.length > MAX_REASON_LENGTH) return `is ${reason.length} characters long; at most ${MAX_REASON_LENGTH} are accepted`;
  const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(reason);
  if (control) return `contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${control.index}`;
  return undefined;
}

/**
 * Ties on activation date go to the lower key id; a new key must win them to become the default.
 * A random id usually does; against a very low id, derive one just below it (any GUID is valid).
 */
function idSortingBefore(ids: string[]): string {
  if (ids.length === 0) return newKeyId();
  for (let attempt = 0; attempt < 16; attempt++) {
    const id = newKeyId();
    if (ids.every((other) => compareKeyIds(id, other) < 0)) return id;
  }
  const lowest = ids.reduce((a, b) => (compareKeyIds(a, b) <= 0 ? a : b));
  const value = BigInt(`0x${lowest.replace(/-/g, '')}`);
  if (value === 0n) return newKeyId();
  const random = BigInt(`0x${newKeyId().replace(/-/g, '').slice(0, 16)}`);
  const hex = (value - 1n - (random % value)).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function applyRetention(plan: RingPlan, ring: KeyRing, now: number, settings: PolicySettings): void {
  if (settings.retention === undefined) return;
  const cutoff = now - settings.retention;
  const deleted = new Set(ring.keys.filter((k) => k.expirationDate < cutoff).map((k) => k.id));
  if (deleted.size === 0) return;
  for (const key of ring.keys) if (deleted.has(key.id)) plan.changes.push({ kind: 'deleteKey', key });
  // As IDeletableKeyManager does: then revocations of keys that no longer exist, then superseded mass revocations.
  const remaining = new Set(ring.keys.filter((k) => !deleted.has(k.id)).map((k) => k.id));
  const latestMass = mostRecentMassRevocation(ring);
  for (const r of ring.revocations) {
    const orphan = r.keyId !== REVOKE_ALL && !remaining.has(r.keyId);
    const superseded = r.keyId === REVOKE_ALL && r.revocationDate !== latestMass;
    if (orphan || superseded) plan.changes.push({ kind: 'deleteRevocation', revocation: r });
  }
}

/** Keys and mass revocations dated further in the future than clock skew explains: drill or clock accidents. */
export function futureDated(ring: KeyRing, now: number): { keys: KeyEntry[]; massRevocations: RevocationEntry[] } {
  const limit = now + MAX_SERVER_CLOCK_SKEW;
  return {
    keys: ring.keys.filter((k) => k.creationDate > limit),
    massRevocations: ring.revocations.filter((r) => r.keyId === REVOKE_ALL && r.revocationDate !== undefined && r.revocationDate > limit),
  };
}

/**
 * Repair (pure): undoes what makes a ring unusable before its time. A mass revocation dated in the
 * future is replaced by one dated now (every key that exists now stays revoked, as apps see it
 * today), keys created in the future are revoked, then a usable default key is restored.
 */
export function planRepair(ring: KeyRing, now: number, settings: PolicySettings): RingPlan {
  const plan: RingPlan = { changes: [], warnings: [] };
  // Any mass revocation after now blocks every key written now, even one inside the clock skew.
  const future = { keys: futureDated(ring, now).keys, massRevocations: ring.revocations.filter((r) => r.keyId === REVOKE_ALL && r.revocationDate !== undefined && r.revocationDate > now) };
  if (future.massRevocations.length > 0) {
    for (const r of future.massRevocations) plan.changes.push({ kind: 'deleteRevocation', revocation: r });
    const dates = future.massRevocations.map((r) => formatDotnetDate(r.revocationDate!)).join(', ');
    plan.changes.push({ kind: 'revoke', keyId: REVOKE_ALL, revocationDate: now, reason: `ringkeeper repair: re-dated a revocation of all keys dated ${dates}` });
  }
  for (const key of future.keys) {
    if (!ring.revocations.some((r) => r.keyId === key.id)) {
      plan.changes.push({ kind: 'revoke', keyId: key.id, revocationDate: now, reason: `ringkeeper repair: created in the future (${formatDotnetDate(key.creationDate)})` });
    }
  }
  ensureCoverage(plan, { ...ring, revocations: ring.revocations.filter((r) => !future.massRevocations.includes(r)) }, now, settings);
  return plan;
}

function immediateWarning(now: number): string {
  return `the forced key is active immediately: instances that have not refreshed their key ring since ${formatDotnetDate(now)} cannot read payloads it protects until they do (up to 24 h)`;
}

/** The default key at `at`, for status and the resolver-equivalence checks. */
export function defaultKeyAt(ring: KeyRing, at: number): string | undefined {
  return resolveDefaultKey(resolvableKeys(ring), at).defaultKey?.id;
}
