import type { RingHandle } from './RingHandle';
import { formatDotnetDate } from './dotnetDate';
import { revocationTest, REVOKE_ALL, type KeyProtection, type KeyRing, type UnreadableKey } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { KEY_PROPAGATION_WINDOW, resolveDefaultKey } from './policy/DefaultKeyResolver';
import { futureDated, planRotation, PolicyError, resolvableKeys, type PolicySettings } from './policy/RotationPolicy';
import { readCurrentKekVersion, type CurrentKekVersion } from './readCurrentKekVersion';
import { staleKekProblem } from './staleKekProblem';

export type Health = 'ok' | 'warning' | 'critical';

export interface Problem {
  code: string;
  severity: Exclude<Health, 'ok'>;
  message: string;
}

/** What `status` reports. Never contains key material: only ids, dates and how keys are protected. */
export interface RingStatus {
  ring: string;
  location: string;
  etag: string | null;
  now: string;
  /** The key apps with DisableAutomaticKeyGeneration() protect with now: the resolver's default, else its fallback. */
  defaultKey: string | null;
  /** Whether `defaultKey` is the resolver's default or only its fallback (or there is none). */
  resolution: 'default' | 'fallback' | 'none';
  /** The same two days from now, once every key written so far has propagated. */
  defaultKeyAfterPropagation: string | null;
  keys: { id: string; creationDate: string; activationDate: string; expirationDate: string; revoked: boolean; protection: KeyProtection }[];
  revocations: { keyId: string; revocationDate: string | null; reason: string }[];
  /** Keys ASP.NET Core skips because their id or dates do not parse (kept in the blob, never used). */
  unreadableKeys: string[];
  unknownElements: number;
  health: Health;
  problems: Problem[];
}

export async function readRingStatus(handle: RingHandle, at: number): Promise<RingStatus> {
  return (await readRingSnapshot(handle, at)).status;
}

/** One read: the status and the parsed ring it describes (the timeline picture draws the same ring). */
export async function readRingSnapshot(handle: RingHandle, at: number): Promise<{ status: RingStatus; ring: KeyRing }> {
  const stored = await handle.repository.read();
  const document = KeyRingDocument.parse(stored.content);
  const kek = await readCurrentKekVersion(handle, document.ring);
  const status: RingStatus = {
    ...ringStatus(document.ring, at, handle.policy, handle.protectorType, document.unreadableKeys, kek),
    ring: handle.name,
    location: handle.repository.location,
    etag: stored.etag ?? null,
    unknownElements: document.unknownElements.length,
  };
  return { status, ring: document.ring };
}

/** The pure part of status: resolution now and after the propagation window, and what is wrong. */
export function ringStatus(
  ring: KeyRing,
  now: number,
  policy: PolicySettings,
  protectorType: string,
  unreadable: readonly UnreadableKey[] = [],
  kek: CurrentKekVersion = { current: null },
): Omit<RingStatus, 'ring' | 'location' | 'etag' | 'unknownElements'> {
  const keys = resolvableKeys(ring);
  const revoked = revocationTest(ring);
  const current = resolveDefaultKey(keys, now);
  const later = resolveDefaultKey(keys, now + KEY_PROPAGATION_WINDOW);
  const problems: Problem[] = [];
  const future = futureDated(ring, now);
  for (const r of future.massRevocations) {
    problems.push({
      code: 'future_mass_revocation',
      severity: 'critical',
      message: `a revocation of all keys is dated ${formatDotnetDate(r.revocationDate!)} (in the future): every key written before then is revoked; \`ringkeeper repair\` re-dates it to now and writes a usable key`,
    });
  }
  for (const k of future.keys) {
    problems.push({
      code: 'future_key',
      severity: 'warning',
      message: `the key {${k.id}} claims to be created at ${formatDotnetDate(k.creationDate)} (in the future: a clock override or a wrong clock)`,
    });
  }
  if (!current.defaultKey) {
    const fallback = current.fallbackKey;
    // No key is usable when the fallback has expired (the ring ran out) or is dated in the future
    // (a drill's key); an unexpired, already created one is a key still propagating.
    const unusable = fallback !== undefined && (fallback.expirationDate <= now || future.keys.some((k) => k.id === fallback.id));
    problems.push(
      fallback
        ? {
            code: 'fallback_key_in_use',
            severity: unusable ? 'critical' : 'warning',
            message: `no key resolves as the default key now; apps with key generation disabled use the fallback key {${fallback.id}}${fallback.expirationDate <= now ? ', which has expired' : unusable ? ', which is dated in the future' : ''}`,
          }
        : {
            code: 'no_default_key',
            severity: 'critical',
            message: 'no usable key: apps with key generation disabled cannot protect data ("The key ring does not contain a valid default protection key")',
          },
    );
  } else if (current.defaultKey.creationDate > now - KEY_PROPAGATION_WINDOW) {
    problems.push({
      code: 'default_key_propagating',
      severity: 'warning',
      message: `the default key {${current.defaultKey.id}} was created less than ${KEY_PROPAGATION_WINDOW / 3_600_000} hours ago; apps that have not refreshed their key ring do not have it yet`,
    });
  }
  if (current.defaultKey && !later.defaultKey) {
    problems.push({ code: 'no_default_key_after_propagation', severity: 'critical', message: `no key will resolve as the default key at ${formatDotnetDate(now + KEY_PROPAGATION_WINDOW)}` });
  }
  // What the next rotation run does comes from the planner itself, so status never promises a write
  // that rotate would not make (or quotes a different gap).
  try {
    const plan = planRotation(ring, now, policy);
    const writes = plan.changes.flatMap((c) => (c.kind === 'createKey' ? [`a ${c.reason} key activating at ${formatDotnetDate(c.dates.activationDate)}`] : []));
    if (writes.length > 0) {
      const severity = current.defaultKey && later.defaultKey ? 'warning' : 'critical';
      problems.push({ code: 'rotation_due', severity, message: `the next rotation run writes ${writes.join(' and ')}` });
    }
    for (const warning of plan.warnings) problems.push({ code: 'rotation_warning', severity: 'warning', message: `the next rotation run warns: ${warning}` });
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    problems.push({ code: 'rotation_blocked', severity: 'critical', message: `the next rotation run fails: ${err.message}` });
  }
  if (protectorType !== 'none' && ring.keys.some((k) => k.protection === 'none')) {
    problems.push({ code: 'unencrypted_keys', severity: 'warning', message: 'some keys are stored unencrypted although the ring is configured with a protector' });
  }
  for (const key of unreadable) {
    problems.push({ code: 'unreadable_key', severity: 'warning', message: `ASP.NET Core skips this key (it is kept, unused): ${key.problem}` });
  }
  if (ring.keys.some((k) => k.protection === 'unknown')) {
    problems.push({ code: 'unknown_protection', severity: 'warning', message: 'some keys use a descriptor or encryption ringkeeper does not recognise' });
  }
  const stale = staleKekProblem(ring, kek.current);
  if (stale) problems.push(stale);
  if (kek.error) problems.push({ code: 'kek_unavailable', severity: 'warning', message: `cannot tell which key-encryption key the protector uses now: ${kek.error}` });
  const health: Health = problems.some((p) => p.severity === 'critical') ? 'critical' : problems.length > 0 ? 'warning' : 'ok';
  return {
    now: formatDotnetDate(now),
    defaultKey: (current.defaultKey ?? current.fallbackKey)?.id ?? null,
    resolution: current.defaultKey ? 'default' : current.fallbackKey ? 'fallback' : 'none',
    defaultKeyAfterPropagation: (later.defaultKey ?? later.fallbackKey)?.id ?? null,
    keys: ring.keys.map((k) => ({
      id: k.id,
      creationDate: formatDotnetDate(k.creationDate),
      activationDate: formatDotnetDate(k.activationDate),
      expirationDate: formatDotnetDate(k.expirationDate),
      revoked: revoked(k),
      protection: k.protection,
    })),
    revocations: ring.revocations.map((r) => ({
      keyId: r.keyId === REVOKE_ALL ? '*' : r.keyId,
      revocationDate: r.revocationDate === undefined ? null : formatDotnetDate(r.revocationDate),
      reason: r.reason,
    })),
    unreadableKeys: unreadable.map((k) => k.problem),
    health,
    problems,
  };
}
