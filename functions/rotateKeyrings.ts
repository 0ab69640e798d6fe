import { app, type InvocationContext, type Timer } from '@azure/functions';
import { rotateRings } from '../shared/app/keyRingOperations';
import { recordRingOperation } from '../shared/app/telemetry/recordRingOperation';
import { createRequestCounters } from '../shared/app/telemetry/requestCounters';
import { openRings } from '../shared/app/openRings';
import { requireConfigFromEnvironment } from '../shared/config/loadConfig';

export const ROTATION_SCHEDULE_SETTING = 'RINGKEEPER_ROTATION_SCHEDULE';
/** Every 6 hours: many runs inside the shortest allowed renewal window (72 h). */
export const DEFAULT_ROTATION_SCHEDULE = '0 0 */6 * * *';

/** Rotates every configured ring; one ring's failure does not stop the others, but fails the run. */
export async function rotateKeyrings(timer: Timer, context: InvocationContext): Promise<void> {
  if (timer.isPastDue) context.warn('rotate-keyrings: this run is past due');
  const counters = createRequestCounters();
  const outcomes = await rotateRings(openRings(requireConfigFromEnvironment(), counters.openRingsOptions), {}, undefined, (handle, rotate) =>
    recordRingOperation('rotation', 'timer', handle.name, counters, context, rotate),
  );
  const failed: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) {
      const r = outcome.result;
      context.log(`ring ${r.ring}: ${r.action}${r.newKeyId ? ` (new key ${r.newKeyId})` : ''}, etag ${r.etag ?? 'none'}, attempts ${r.attempts}`);
      for (const warning of r.warnings) context.warn(`ring ${r.ring}: ${warning}`);
    } else {
      failed.push(outcome.ring);
      context.error(`ring ${outcome.ring}: ${outcome.error.code}: ${outcome.error.expected ? outcome.error.message : String(outcome.cause)}`);
    }
  }
  if (failed.length > 0) throw new Error(`rotation failed for ${failed.length} of ${outcomes.length} rings: ${failed.join(', ')}`);
}

app.timer('rotate-keyrings', {
  // The host resolves %SETTING% itself; without the setting it would refuse to start, so default here.
  schedule: process.env[ROTATION_SCHEDULE_SETTING] ? `%${ROTATION_SCHEDULE_SETTING}%` : DEFAULT_ROTATION_SCHEDULE,
  handler: rotateKeyrings,
});
