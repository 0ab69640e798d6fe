import { DAY, MINUTE } from '../dotnetDate';

/** KeyManagementOptions.KeyPropagationWindow: keys created this long ago have reached every instance. */
export const KEY_PROPAGATION_WINDOW = 2 * DAY;
/** KeyManagementOptions.MaxServerClockSkew. */
export const MAX_SERVER_CLOCK_SKEW = 5 * MINUTE;

/** What the resolver needs of a key; `revoked` already accounts for single and mass revocations. */
export interface ResolvableKey {
  id: string;
  creationDate: number;
  activationDate: number;
  expirationDate: number;
  revoked: boolean;
}

export interface DefaultKeyResolution<K extends ResolvableKey> {
  defaultKey?: K;
  /** What apps with key generation disabled use when there is no default key; may be expired. */
  fallbackKey?: K;
}

/**
 * ASP.NET Core's DefaultKeyResolver.FindDefaultKey: which key an app picks at `now`.
 * Every key is assumed usable (CreateEncryptor succeeds): ringkeeper verifies that separately.
 * The fallback prefers keys old enough to have propagated, as the runtime does.
 */
export function resolveDefaultKey<K extends ResolvableKey>(keys: readonly K[], now: number): DefaultKeyResolution<K> {
  const preferred = preferredKey(keys, now);
  if (preferred && !preferred.revoked && preferred.expirationDate > now) return { defaultKey: preferred };

  const cutoff = now - KEY_PROPAGATION_WINDOW;
  const unrevoked = keys.filter((k) => !k.revoked);
  const fallbackKey =
    unrevoked.filter((k) => k !== preferred && k.creationDate <= cutoff).sort((a, b) => b.creationDate - a.creationDate)[0] ??
    unrevoked.filter((k) => k.creationDate > cutoff).sort((a, b) => a.creationDate - b.creationDate)[0];
  return { fallbackKey };
}

/**
 * The only key the resolver considers as default at `now`, usable or not: the most recently
 * activated key (activation within the clock skew), ties to the lower id. This is the rule the
 * shipping runtime applies (Microsoft.AspNetCore.DataProtection 10.0.12, decompiled); the
 * repository's main branch also prefers propagated keys, which no released version does.
 */
export function preferredKey<K extends ResolvableKey>(keys: readonly K[], now: number): K | undefined {
  let best: K | undefined;
  for (const k of keys) {
    if (k.activationDate > now + MAX_SERVER_CLOCK_SKEW) continue;
    if (!best || k.activationDate > best.activationDate || (k.activationDate === best.activationDate && compareKeyIds(k.id, best.id) < 0)) best = k;
  }
  return best;
}

/** Guid.CompareTo orders like the lowercase "D" strings (Data1, Data2, Data3 as numbers, then bytes). */
export function compareKeyIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Instants in [from, to] where the resolver's answer can change: now, and every activation (less the
 * skew), propagation (creation + window) and expiration. Between two of them the answer is constant.
 */
export function resolutionBoundaries(keys: readonly ResolvableKey[], from: number, to: number): number[] {
  const instants = new Set<number>([from]);
  for (const k of keys) {
    for (const t of [k.activationDate - MAX_SERVER_CLOCK_SKEW, k.creationDate + KEY_PROPAGATION_WINDOW, k.expirationDate]) {
      if (t > from && t <= to) instants.add(t);
    }
  }
  return [...instants].sort((a, b) => a - b);
}

/** The first instant in [from, to] at which no valid default key resolves, if any. */
export function firstGap(keys: readonly ResolvableKey[], from: number, to: number): number | undefined {
  return resolutionBoundaries(keys, from, to).find((t) => !resolveDefaultKey(keys, t).defaultKey);
}
