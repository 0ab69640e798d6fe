import type { CacheStatus, ChannelStatus } from '../../cache/readChannelStatus';
import type { Health, RingStatus } from '../../keyring/keyRingStatus';
import type { KeyVerification } from '../../keyring/verifyKeyRing';

export interface HealthReason {
  code: string;
  severity: Exclude<Health, 'ok'>;
  message: string;
}

export interface ComponentHealth {
  name: string;
  health: Health;
  reasons: HealthReason[];
}

export interface HealthReport {
  /** The worst of every ring and channel. */
  health: Health;
  at: string;
  rings: ComponentHealth[];
  channels: ComponentHealth[];
}

/** When the channel's queues count as behind. Front-end trouble is a warning: it is not this app's own failure. */
export const HEALTH_THRESHOLDS = {
  /** A live front-end whose oldest waiting message is older than this is lagging. */
  frontEndLagSeconds: 300,
  /** Fan-out input older than this: the fan-out is slow (warning) ... */
  fanOutLagWarningSeconds: 120,
  /** ... or has stopped (critical: front-ends get nothing new). */
  fanOutLagCriticalSeconds: 900,
} as const;

/**
 * A ring's health: the problems `status` reports (same codes, same severities: one evaluation),
 * plus keys in use that the configured protector cannot unwrap (critical: apps cannot use them).
 */
export function ringHealth(status: RingStatus, verified: readonly KeyVerification[] = []): ComponentHealth {
  const reasons: HealthReason[] = status.problems.map((p) => ({ code: p.code, severity: p.severity, message: p.message }));
  for (const key of verified) {
    if (key.status === 'failed') {
      reasons.push({
        code: 'protector_cannot_unwrap',
        severity: 'critical',
        message: `the key {${key.id}} that apps use cannot be unwrapped with the configured protector: ${key.detail ?? 'failed'}`,
      });
    }
  }
  return { name: status.ring, health: worst(reasons), reasons };
}

/** A channel's health from what readCacheStatus saw; the shared queues' figures go to every channel. */
export function channelHealth(channel: ChannelStatus, cache: Pick<CacheStatus, 'instructions' | 'rejected'>, thresholds = HEALTH_THRESHOLDS): ComponentHealth {
  const reasons: HealthReason[] = [];
  if (channel.error) reasons.push({ code: 'channel_unreadable', severity: 'critical', message: `the channel could not be read: ${channel.error}` });
  const lagging = channel.frontEnds.filter((f) => f.live && f.lagSeconds > thresholds.frontEndLagSeconds);
  const fanOut = cache.instructions.oldestSeconds;
  if (fanOut > thresholds.fanOutLagWarningSeconds) {
    const stopped = fanOut > thresholds.fanOutLagCriticalSeconds;
    reasons.push({
      code: stopped ? 'fan_out_stopped' : 'fan_out_slow',
      severity: stopped ? 'critical' : 'warning',
      message: `the oldest instruction waiting for the fan-out in ${cache.instructions.queue} is ${minutes(fanOut)} old (${cache.instructions.count ?? '?'} waiting); the journal head ${channel.head} does not reach front-ends`,
    });
  }
  for (const f of lagging) {
    reasons.push({
      code: 'front_end_lagging',
      severity: 'warning',
      message: `front-end ${f.instance} has not applied instructions for ${minutes(f.lagSeconds)}: position ${f.position}, head ${channel.head} (${f.behind} behind, ${f.waiting} waiting)`,
    });
  }
  for (const q of [cache.instructions, cache.rejected]) {
    if (q.error) reasons.push({ code: 'queue_unreadable', severity: 'warning', message: `the queue ${q.queue} could not be read: ${q.error}` });
  }
  const stale = channel.frontEnds.filter((f) => !f.live);
  if (stale.length > 0) {
    reasons.push({
      code: 'stale_front_ends',
      severity: 'warning',
      message: `${stale.length} front-end queue(s) with a stale heartbeat, not yet removed by the janitor: ${stale.map((f) => f.instance).join(', ')}`,
    });
  }
  if (cache.rejected.lastHour > 0 || cache.rejected.lastHourIsLowerBound) {
    reasons.push({
      code: 'rejected_messages',
      severity: 'warning',
      message:
        cache.rejected.lastHour > 0
          ? `${cache.rejected.lastHour} message(s) rejected in the last hour (${cache.rejected.queue} holds ${cache.rejected.count ?? '?'})`
          : `${cache.rejected.queue} holds ${cache.rejected.count ?? '?'} rejected messages; some may be from the last hour`,
    });
  }
  return { name: channel.channel, health: worst(reasons), reasons };
}

export function overallHealth(components: readonly ComponentHealth[]): Health {
  return components.some((c) => c.health === 'critical') ? 'critical' : components.some((c) => c.health === 'warning') ? 'warning' : 'ok';
}

function worst(reasons: readonly HealthReason[]): Health {
  return reasons.some((r) => r.severity === 'critical') ? 'critical' : reasons.length > 0 ? 'warning' : 'ok';
}

function minutes(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
