import { app, type InvocationContext, type Timer } from '@azure/functions';
import { emitTelemetry } from '../shared/app/telemetry/emitTelemetry';
import { viewRecords } from '../shared/app/telemetry/operationRecords';
import { readOperatorsViewFromEnvironment } from '../shared/http/readOperatorsViewFromEnvironment';

export const TELEMETRY_SCHEDULE_SETTING = 'RINGKEEPER_TELEMETRY_SCHEDULE';
/** Every 5 minutes: the alert rules look back 15 minutes or more, so a missed run never fires one. */
export const DEFAULT_TELEMETRY_SCHEDULE = '0 */5 * * * *';

/**
 * Timer: what /api/health sees, as telemetry: one health record per ring and channel, and the
 * gauges (key age, time to the next activation, time until the default key expires, fan-out lag,
 * front-end lag). Costs one blob read per ring, a few queue reads per channel, and Key Vault
 * unwraps of the keys in use at most every 10 minutes per ring.
 */
export async function recordOperatorsTelemetry(_timer: Timer | undefined, context: InvocationContext): Promise<void> {
  const view = await readOperatorsViewFromEnvironment();
  for (const record of viewRecords(view)) emitTelemetry(context, record);
}

app.timer('operators-telemetry', {
  schedule: process.env[TELEMETRY_SCHEDULE_SETTING] ? `%${TELEMETRY_SCHEDULE_SETTING}%` : DEFAULT_TELEMETRY_SCHEDULE,
  handler: recordOperatorsTelemetry,
});
