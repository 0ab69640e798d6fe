import { app, type InvocationContext } from '@azure/functions';
import { cacheRuntimeFromEnvironment, instructionsQueueForBinding } from '../shared/cache/cacheRuntime';
import type { FanOutOutcome } from '../shared/cache/CacheFanOut';
import { describeStorageError } from '../shared/cache/storageErrors';
import { emitTelemetry } from '../shared/app/telemetry/emitTelemetry';
import { fanOutRecord } from '../shared/app/telemetry/operationRecords';

/**
 * Queue trigger on the instructions queue: journal (if needed) and copy each entry to every live
 * front-end queue of its channel. Never throws for messages that can never succeed (they go to
 * the rejected queue after this one attempt); throws for transient failures so the host retries.
 */
export async function fanOutCacheInstructions(message: unknown, context: InvocationContext): Promise<FanOutOutcome> {
  const { fanOut } = cacheRuntimeFromEnvironment();
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const started = performance.now();
  let outcome: FanOutOutcome;
  try {
    outcome = await fanOut.handle(message, { dequeueCount, log: context });
  } catch (err) {
    emitTelemetry(context, fanOutRecord({ error: describeStorageError(err) }, Math.round(performance.now() - started)));
    throw err;
  }
  emitTelemetry(context, fanOutRecord(outcome, Math.round(performance.now() - started)));
  if (outcome.outcome === 'delivered') context.debug(`cache: ${outcome.channel}#${outcome.first}..${outcome.last} -> ${outcome.frontEnds} front-ends (${outcome.form})`);
  return outcome;
}

app.storageQueue('fan-out-cache-instructions', {
  queueName: instructionsQueueForBinding(),
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    await fanOutCacheInstructions(message, context);
  },
});
