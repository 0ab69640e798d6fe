import { DAY } from '../dotnetDate';
import { DEFAULT_POLICY, type PolicySettings } from './RotationPolicy';

/** A ring's `policy` section as configured, in days; shared/config parses and validates it. */
export interface PolicyConfig {
  /** New key lifetime, days (default 90, min 7). */
  keyLifetimeDays?: number;
  /** Write a successor when the default key has less than this to live, days (default 14, min 3). */
  renewBeforeDays?: number;
  /** Delete keys expired more than N days ago (off when absent). */
  retentionDays?: number;
}

export function policySettings(config: PolicyConfig | undefined): PolicySettings {
  return {
    keyLifetime: (config?.keyLifetimeDays ?? DEFAULT_POLICY.keyLifetime / DAY) * DAY,
    renewBefore: (config?.renewBeforeDays ?? DEFAULT_POLICY.renewBefore / DAY) * DAY,
    retention: config?.retentionDays === undefined ? undefined : config.retentionDays * DAY,
  };
}
