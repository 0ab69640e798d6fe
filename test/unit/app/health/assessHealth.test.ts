import { describe, expect, it } from 'vitest';
import { channelHealth, overallHealth, ringHealth } from '../../../../shared/app/health/assessHealth';
import type { CacheStatus, ChannelStatus, FrontEndStatus } from '../../../../shared/cache/readChannelStatus';
import type { RingStatus } from '../../../../shared/keyring/keyRingStatus';

const queues = (instructionsAge = 0, rejected: Partial<CacheStatus['rejected']> = {}): Pick<CacheStatus, 'instructions' | 'rejected'> => ({
  instructions: { queue: 'cache-instructions', count: instructionsAge ? 4 : 0, oldestSeconds: instructionsAge },
  rejected: { queue: 'cache-instructions-rejected', count: 0, oldestSeconds: 0, lastHour: 0, lastHourIsLowerBound: false, ...rejected },
});

const fe = (instance: string, over: Partial<FrontEndStatus> = {}): FrontEndStatus => ({
  instance,
  queueName: `rkfe-production-${instance}`,
  heartbeat: '2026-11-25T12:00:00.000Z',
  live: true,
  waiting: 0,
  position: 10,
  behind: 0,
  lagSeconds: 0,
  ...over,
});
const channel = (frontEnds: FrontEndStatus[], over: Partial<ChannelStatus> = {}): ChannelStatus => ({ channel: 'production', head: 10, frontEnds, ...over });

describe('channelHealth', () => {
  it.each([
    ['every front-end keeping up', channel([fe('a'), fe('b')]), queues(), 'ok', []],
    ['a live front-end whose oldest message waits 6 min', channel([fe('a'), fe('b', { lagSeconds: 360, position: 4, behind: 6, waiting: 3 })]), queues(), 'warning', ['front_end_lagging']],
    ['a stale front-end not yet swept (its lag does not count)', channel([fe('a'), fe('old', { live: false, lagSeconds: 9000 })]), queues(), 'warning', ['stale_front_ends']],
    ['the fan-out 3 min behind', channel([fe('a')]), queues(180), 'warning', ['fan_out_slow']],
    ['the fan-out stopped for 20 min while a front-end lags', channel([fe('a', { lagSeconds: 1200 })]), queues(1200), 'critical', ['fan_out_stopped', 'front_end_lagging']],
    ['rejections in the last hour', channel([fe('a')]), queues(0, { count: 2, lastHour: 2 }), 'warning', ['rejected_messages']],
    ['old rejections only (peek saw every message)', channel([fe('a')]), queues(0, { count: 2, lastHour: 0 }), 'ok', []],
    ['old rejections, more than peek can see', channel([fe('a')]), queues(0, { count: 500, lastHour: 0, lastHourIsLowerBound: true }), 'warning', ['rejected_messages']],
    ['an unreadable channel', channel([], { error: '403 AuthorizationFailure' }), queues(), 'critical', ['channel_unreadable']],
    ['an unreadable rejected queue', channel([fe('a')]), queues(0, { count: undefined, error: 'storage 403 AuthorizationPermissionMismatch' }), 'warning', ['queue_unreadable']],
  ] as const)('%s', (_name, status, cache, health, codes) => {
    const result = channelHealth(status, cache);
    expect(result.health).toBe(health);
    expect(result.reasons.map((r) => r.code)).toEqual(codes);
  });

  it('names the lagging front-end with its position, the head and how far behind it is', () => {
    const [reason] = channelHealth(channel([fe('web-1', { lagSeconds: 400, position: 4, behind: 6, waiting: 3 })]), queues()).reasons;
    expect(reason!.message).toBe('front-end web-1 has not applied instructions for 7 min: position 4, head 10 (6 behind, 3 waiting)');
  });
});

describe('ringHealth', () => {
  const status = (problems: RingStatus['problems']): RingStatus => ({
    ring: 'production',
    location: 'x',
    etag: '"1"',
    now: '2026-11-25T12:00:00Z',
    defaultKey: 'k',
    resolution: 'default',
    defaultKeyAfterPropagation: 'k',
    keys: [],
    revocations: [],
    unreadableKeys: [],
    unknownElements: 0,
    health: 'ok',
    problems,
  });

  it("keeps status's problems (codes and severities) and adds keys in use that cannot be unwrapped", () => {
    const result = ringHealth(status([{ code: 'rotation_due', severity: 'warning', message: 'm' }]), [
      { id: 'k', protection: 'rsa', status: 'failed', detail: 'wrapped by another key' },
      { id: 'j', protection: 'rsa', status: 'ok' },
    ]);
    expect(result.health).toBe('critical');
    expect(result.reasons.map((r) => [r.code, r.severity])).toEqual([
      ['rotation_due', 'warning'],
      ['protector_cannot_unwrap', 'critical'],
    ]);
    expect(result.reasons[1]!.message).toContain('{k}');
  });

  it('is ok without problems, and the overall health is the worst component', () => {
    const ok = ringHealth(status([]));
    expect(ok.health).toBe('ok');
    expect(overallHealth([ok])).toBe('ok');
    expect(overallHealth([ok, { name: 'c', health: 'warning', reasons: [] }])).toBe('warning');
    expect(overallHealth([ok, { name: 'c', health: 'critical', reasons: [] }, { name: 'd', health: 'warning', reasons: [] }])).toBe('critical');
  });
});
