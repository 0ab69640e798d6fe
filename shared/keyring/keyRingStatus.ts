import type { RingHandle } from '../app/openRings';
import { formatDotnetDate } from './dotnetDate';
import { revocationTest, REVOKE_ALL, type KeyProtection, type KeyRing, type UnreadableKey } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { firstGap, KEY_PROPAGATION_WINDOW, resolveDefaultKey } from './policy/DefaultKeyResolver';
import { resolvableKeys, type PolicySettings } from './policy/RotationPolicy';
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
  const stored = await handle.repository.read();
  const document = KeyRingDocument.parse(stored.content);
  const kek = await readCurrentKekVersion(handle, document.ring);
  return {
    ...ringStatus(document.ring, at, handle.policy, handle.protectorType, document.unreadableKeys, kek),
    ring: handle.name,
    location: handle.repository.location,
    etag: stored.etag ?? null,
    unknownElements: document.unknownElements.length,
  };
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
  if (!current.defaultKey) {
    problems.push(
      current.fallbackKey
        ? {
            code: 'fallback_key_in_use',
            // An expired fallback means the ring has run out of keys; an unexpired one is a key still propagating.
            severity: current.fallbackKey.expirationDate <= now ? 'critical' : 'warning',
            message: `no key resolves as the default key now; apps with key generation disabled use the fallback key {${current.fallbackKey.id}}${current.fallbackKey.expirationDate <= now ? ', which has expired' : ''}`,
          }
        : { code: 'no_default_key', severity: 'critical', message: 'no usable key: apps with key generation disabled cannot protect data ("The key ring does not contain a valid default protection key")' },
    );
  } else if (current.defaultKey.creationDate > now - KEY_PROPAGATION_WINDOW) {
    problems.push({ code: 'default_key_propagating', severity: 'warning', message: `the default key {${current.defaultKey.id}} was created less than ${KEY_PROPAGATION_WINDOW / 3_600_000} hours ago; apps that have not refreshed their key ring do not have it yet` });
  }
  if (current.defaultKey && !later.defaultKey) {
    problems.push({ code: 'no_default_key_after_propagation', severity: 'critical', message: `no key will resolve as the default key at ${formatDotnetDate(now + KEY_PROPAGATION_WINDOW)}` });
  }
  const gap = firstGap(keys, now, now + policy.renewBefore);
  if (gap !== undefined && current.defaultKey && later.defaultKey) {
    problems.push({ code: 'rotation_due', severity: 'warning', message: `no default key is lined up for ${formatDotnetDate(gap)}: the next rotation run writes a successor` });
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
    revocations: ring.revocations.map((r) => ({ keyId: r.keyId === REVOKE_ALL ? '*' : r.keyId, revocationDate: r.revocationDate === undefined ? null : formatDotnetDate(r.revocationDate), reason: r.reason })),
    unreadableKeys: unreadable.map((k) => k.problem),
    health,
    problems,
  };
}
