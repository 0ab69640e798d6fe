import type { CacheContext } from '../../cache/CacheContext';
import { readCacheStatus, type CacheStatus } from '../../cache/readChannelStatus';
import type { KeyRing } from '../../keyring/KeyRing';
import { readRingSnapshot, type RingStatus } from '../../keyring/keyRingStatus';
import { verifyKeyRing, type KeyVerification } from '../../keyring/verifyKeyRing';
import { classifyError } from '../classifyError';
import type { RingHandle } from '../openRings';
import { channelHealth, overallHealth, ringHealth, type ComponentHealth, type HealthReport } from './assessHealth';

export interface RingView {
  name: string;
  /** Undefined when the ring could not be read (see health). */
  status?: RingStatus;
  ring?: KeyRing;
  health: ComponentHealth;
}

export interface OperatorsView {
  at: number;
  rings: RingView[];
  cache?: CacheStatus;
  report: HealthReport;
}

/** Unwrapping costs a Key Vault call per key: a ring's keys in use are checked again only when it changed or after this long. */
const UNWRAP_CHECK_TTL_MS = 10 * 60_000;
const unwrapChecks = new Map<string, { at: number; keys: KeyVerification[] }>();

/**
 * Everything the status page and the health endpoint show, read once: each ring's status and
 * parsed ring (one blob read each), the keys apps use unwrapped with the configured protector,
 * and the cache channel's queues. One ring's or channel's failure is reported, not thrown.
 */
export async function readOperatorsView(rings: readonly RingHandle[], cache: CacheContext | undefined, now = Date.now()): Promise<OperatorsView> {
  const views = await Promise.all(rings.map((handle) => readRingView(handle, now)));
  const cacheStatus = cache ? await readCacheStatus(cache, new Date(now)) : undefined;
  const channels = cacheStatus ? cacheStatus.channels.map((c) => channelHealth(c, cacheStatus)) : [];
  const ringHealths = views.map((v) => v.health);
  return {
    at: now,
    rings: views,
    cache: cacheStatus,
    report: { health: overallHealth([...ringHealths, ...channels]), at: new Date(now).toISOString(), rings: ringHealths, channels },
  };
}

async function readRingView(handle: RingHandle, now: number): Promise<RingView> {
  try {
    const { status, ring } = await readRingSnapshot(handle, now);
    const verified = await keysInUseVerified(handle, status);
    return { name: handle.name, status, ring, health: ringHealth(status, verified) };
  } catch (err) {
    const classified = classifyError(err);
    return { name: handle.name, health: { name: handle.name, health: 'critical', reasons: [{ code: classified.code, severity: 'critical', message: classified.message }] } };
  }
}

async function keysInUseVerified(handle: RingHandle, status: RingStatus): Promise<KeyVerification[]> {
  const inUse = new Set([status.defaultKey, status.defaultKeyAfterPropagation].filter((id): id is string => id !== null));
  if (inUse.size === 0) return [];
  const cacheKey = `${handle.name}\u0000${status.etag}\u0000${[...inUse].sort().join(',')}`;
  const cached = unwrapChecks.get(cacheKey);
  if (cached && Date.now() - cached.at < UNWRAP_CHECK_TTL_MS) return cached.keys;
  const { keys } = await verifyKeyRing(handle, inUse);
  for (const key of unwrapChecks.keys()) if (key.startsWith(`${handle.name}\u0000`)) unwrapChecks.delete(key);
  // A failure (perhaps Key Vault throttling) is checked again on the next call, not remembered.
  if (keys.every((k) => k.status !== 'failed')) unwrapChecks.set(cacheKey, { at: Date.now(), keys });
  return keys;
}
