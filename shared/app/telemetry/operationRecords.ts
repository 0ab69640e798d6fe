import type { CacheJanitorReport } from '../../cache/runCacheJanitor';
import type { FanOutOutcome } from '../../cache/CacheFanOut';
import type { RingStatus } from '../../keyring/keyRingStatus';
import type { RingOutcome } from '../keyRingOperations';
import type { OperatorsView } from '../health/readOperatorsView';
import type { RequestCounts, TelemetryRecord } from './TelemetryRecord';

type RingRecord = Extract<TelemetryRecord, { event: 'rotation' | 'revocation' }>;

/** One rotation or revocation of one ring, succeeded or failed. */
export function ringOperationRecord(event: RingRecord['event'], trigger: RingRecord['trigger'], outcome: RingOutcome, durationMs: number, requests: RequestCounts): RingRecord {
  if (!outcome.ok) {
    return { event, ring: outcome.ring, trigger, outcome: 'failed', action: outcome.error.code, keyId: null, keyIds: [], attempts: null, durationMs, warnings: 0, ...requests };
  }
  const r = outcome.result;
  const keyIds = event === 'revocation' ? r.revokedKeyIds : r.newKeys.map((k) => k.id);
  return {
    event,
    ring: r.ring,
    trigger,
    outcome: 'succeeded',
    action: r.action,
    keyId: event === 'revocation' ? (keyIds[0] ?? null) : r.newKeyId,
    keyIds,
    attempts: r.attempts,
    durationMs,
    warnings: r.warnings.length,
    ...requests,
  };
}

/** One fan-out invocation (one instructions-queue message); `error` when it threw for a retry. */
export function fanOutRecord(result: FanOutOutcome | { error: string }, durationMs: number): TelemetryRecord {
  if ('error' in result) return { event: 'fanout', channel: null, outcome: 'failed', first: null, last: null, form: null, frontEnds: 0, failedFrontEnds: 0, code: result.error, durationMs };
  if (result.outcome === 'rejected')
    return { event: 'fanout', channel: null, outcome: 'rejected', first: null, last: null, form: null, frontEnds: 0, failedFrontEnds: 0, code: result.code, durationMs };
  return {
    event: 'fanout',
    channel: result.channel,
    outcome: 'delivered',
    first: result.first,
    last: result.last,
    form: result.form,
    frontEnds: result.frontEnds,
    failedFrontEnds: result.failed.length,
    code: null,
    durationMs,
  };
}

/** One record per channel of a janitor run. */
export function janitorRecords(report: CacheJanitorReport, durationMs: number): TelemetryRecord[] {
  return report.channels.map((c) => ({
    event: 'janitor',
    channel: c.channel,
    outcome: c.error ? 'failed' : 'succeeded',
    head: c.head,
    oldest: c.oldest ?? null,
    pruned: c.pruned,
    liveFrontEnds: c.frontEnds.live,
    staleDeleted: c.frontEnds.deleted.length,
    rejected: report.rejected ?? null,
    durationMs,
    error: c.error ?? null,
  }));
}

/** Health per ring and channel, and the gauges: key age and timings per ring, lags per channel and front-end. */
export function viewRecords(view: OperatorsView): TelemetryRecord[] {
  const records: TelemetryRecord[] = [];
  for (const h of view.report.rings) records.push({ event: 'health', component: 'ring', name: h.name, health: h.health, reasons: h.reasons.map((r) => r.code) });
  for (const h of view.report.channels) records.push({ event: 'health', component: 'channel', name: h.name, health: h.health, reasons: h.reasons.map((r) => r.code) });
  for (const ring of view.rings) if (ring.status) records.push(...ringMetrics(ring.status, view.at));
  if (view.cache) {
    records.push({ event: 'metric', name: 'fan_out_lag', value: view.cache.instructions.oldestSeconds, unit: 'seconds' });
    records.push({ event: 'metric', name: 'rejected_messages', value: view.cache.rejected.count ?? 0, unit: 'count' });
    for (const c of view.cache.channels) {
      for (const f of c.frontEnds.filter((fe) => fe.live)) {
        records.push({ event: 'metric', name: 'front_end_lag', value: f.lagSeconds, unit: 'seconds', channel: c.channel, frontEnd: f.instance });
        records.push({ event: 'metric', name: 'front_end_behind', value: f.behind, unit: 'count', channel: c.channel, frontEnd: f.instance });
      }
    }
  }
  return records;
}

/** Seconds, rounded: the age of the key apps use, how long it has left, and when the next key activates. */
export function ringMetrics(status: RingStatus, now: number): TelemetryRecord[] {
  const records: TelemetryRecord[] = [];
  const seconds = (ms: number) => Math.round(ms / 1000);
  const current = status.keys.find((k) => k.id === status.defaultKey);
  if (current) {
    records.push({ event: 'metric', name: 'default_key_age', value: seconds(now - Date.parse(current.creationDate)), unit: 'seconds', ring: status.ring });
    records.push({ event: 'metric', name: 'time_until_default_key_expires', value: seconds(Date.parse(current.expirationDate) - now), unit: 'seconds', ring: status.ring });
  }
  const next = status.keys.filter((k) => !k.revoked && Date.parse(k.activationDate) > now).map((k) => Date.parse(k.activationDate));
  if (next.length > 0) records.push({ event: 'metric', name: 'time_to_next_activation', value: seconds(Math.min(...next) - now), unit: 'seconds', ring: status.ring });
  return records;
}
