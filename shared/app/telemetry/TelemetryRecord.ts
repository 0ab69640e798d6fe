import type { Health } from '../../keyring/keyRingStatus';

/** Every record's line starts with this, so Application Insights queries find them: `traces | where message startswith "ringkeeper.telemetry "`. */
export const TELEMETRY_PREFIX = 'ringkeeper.telemetry ';

export type Outcome = 'succeeded' | 'failed';

/** Storage and Key Vault requests one operation sent on the wire (retries included). */
export interface RequestCounts {
  storageRequests: number;
  keyVaultRequests: number;
}

/**
 * One structured record per operation, and the gauges operators alert on. Ids, names, dates,
 * counts and durations only: never key material, wrapped keys, URLs with tokens or connection strings.
 */
export type TelemetryRecord =
  | ({
      event: 'rotation' | 'revocation';
      ring: string;
      trigger: 'timer' | 'http';
      outcome: Outcome;
      /** RingUpdateResult.action, or the error code when it failed. */
      action: string;
      /** The new key (rotation) or the revoked keys. */
      keyId: string | null;
      keyIds: string[];
      attempts: number | null;
      durationMs: number;
      warnings: number;
    } & RequestCounts)
  | {
      event: 'fanout';
      channel: string | null;
      outcome: 'delivered' | 'rejected' | 'failed';
      first: number | null;
      last: number | null;
      form: string | null;
      frontEnds: number;
      failedFrontEnds: number;
      code: string | null;
      durationMs: number;
    }
  | {
      event: 'janitor';
      channel: string;
      outcome: Outcome;
      head: number;
      oldest: number | null;
      pruned: number;
      liveFrontEnds: number;
      staleDeleted: number;
      rejected: number | null;
      durationMs: number;
      error: string | null;
    }
  | { event: 'health'; component: 'ring' | 'channel'; name: string; health: Health; reasons: string[] }
  | { event: 'metric'; name: MetricName; value: number; unit: 'seconds' | 'count'; ring?: string; channel?: string; frontEnd?: string };

export type MetricName = 'default_key_age' | 'time_to_next_activation' | 'time_until_default_key_expires' | 'fan_out_lag' | 'front_end_lag' | 'front_end_behind' | 'rejected_messages';

/** The one-line form written to the Functions log. */
export function formatTelemetry(record: TelemetryRecord): string {
  return `${TELEMETRY_PREFIX}${JSON.stringify(record)}`;
}
