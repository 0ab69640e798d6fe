import type { PolicyConfig } from '../../config/types';
import { DAY } from '../dotnetDate';
import { DEFAULT_POLICY, type PolicySettings } from './RotationPolicy';

export function policySettings(config: PolicyConfig | undefined): PolicySettings {
  return {
    keyLifetime: (config?.keyLifetimeDays ?? DEFAULT_POLICY.keyLifetime / DAY) * DAY,
    renewBefore: (config?.renewBeforeDays ?? DEFAULT_POLICY.renewBefore / DAY) * DAY,
    retention: config?.retentionDays === undefined ? undefined : config.retentionDays * DAY,
  };
}
